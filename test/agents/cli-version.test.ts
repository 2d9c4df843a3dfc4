import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import {
  clearVersionCache,
  cliVersion,
  compareVersions,
  parseVersion,
  testedRange,
  untestedVersionWarning,
  versionStatus,
} from '../../src/agents/cli-version.js';
import { adapterFor } from '../../src/agents/registry.js';
import { checkAgent } from '../../src/agents/validate.js';
import { type AgentConfig, agentSchema } from '../../src/config/schema.js';
import { type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

/** A stand-in CLI: each run appends a line to `counter`, then prints `out`. */
function standIn(dir: string, out: string, extra = ''): { bin: string; counter: string } {
  const bin = path.join(dir, 'fake-cli');
  const counter = path.join(dir, 'calls');
  fs.writeFileSync(
    bin,
    `#!/bin/sh\necho "$@" >> ${JSON.stringify(counter)}\n${extra}printf '%s\\n' ${JSON.stringify(out)}\n`,
    { mode: 0o755 },
  );
  return { bin, counter };
}

const calls = (counter: string): number =>
  fs.existsSync(counter) ? fs.readFileSync(counter, 'utf8').split('\n').filter(Boolean).length : 0;

const agentOf = (o: Record<string, unknown>): AgentConfig => agentSchema.parse(o);

beforeEach(() => clearVersionCache());

describe('cliVersion', () => {
  it('reads the version once per binary: a second call and concurrent calls do not spawn', async () => {
    const dir = tempDir('ab-version-');
    const { bin, counter } = standIn(dir, 'claude 2.1.7 (Claude Code)');
    const agent = agentOf({ kind: 'claude', command: bin });
    const all = await Promise.all([1, 2, 3].map(() => cliVersion('c', agent, process.env, dir)));
    assert.deepEqual(all, ['2.1.7', '2.1.7', '2.1.7']);
    assert.equal(calls(counter), 1, 'concurrent callers share one probe');
    assert.equal(await cliVersion('c', agent, process.env, dir), '2.1.7');
    assert.equal(calls(counter), 1, 'the second call was served from the cache');
    assert.equal(fs.readFileSync(counter, 'utf8').trim(), '--version');
  });

  it('probes again when the binary changes (a new mtime)', async () => {
    const dir = tempDir('ab-version-');
    const { bin, counter } = standIn(dir, '2.1.7');
    const agent = agentOf({ kind: 'claude', command: bin });
    assert.equal(await cliVersion('c', agent, process.env, dir), '2.1.7');
    // The same size, a new version and a later mtime: an upgrade in place.
    standIn(dir, '2.1.8');
    const later = new Date(Date.now() + 5_000);
    fs.utimesSync(bin, later, later);
    assert.equal(await cliVersion('c', agent, process.env, dir), '2.1.8');
    assert.equal(calls(counter), 2);
    assert.equal(await cliVersion('c', agent, process.env, dir), '2.1.8');
    assert.equal(calls(counter), 2);
  });

  it('finds the command on PATH from the agent env, and two names for one binary share the probe', async () => {
    const dir = tempDir('ab-version-');
    const { counter } = standIn(dir, '0.42.0');
    const a = agentOf({ kind: 'codex', command: 'fake-cli', env: { PATH: dir } });
    const b = agentOf({ kind: 'codex', command: path.join(dir, 'fake-cli') });
    assert.equal(await cliVersion('a', a, { PATH: '/nonexistent' }, dir), '0.42.0');
    assert.equal(await cliVersion('b', b, { PATH: '/nonexistent' }, dir), '0.42.0');
    assert.equal(calls(counter), 1);
  });

  it('is null for kind command, a missing binary, and a CLI that prints no version', async () => {
    const dir = tempDir('ab-version-');
    const { bin, counter } = standIn(dir, 'no version here');
    assert.equal(
      await cliVersion('x', agentOf({ kind: 'command', command: bin }), process.env, dir),
      null,
    );
    assert.equal(calls(counter), 0, 'kind command is never run for a version');
    assert.equal(
      await cliVersion(
        'x',
        agentOf({ kind: 'claude', command: 'no-such-cli-xyz' }),
        process.env,
        dir,
      ),
      null,
    );
    assert.equal(
      await cliVersion('x', agentOf({ kind: 'claude', command: bin }), process.env, dir),
      null,
    );
  });

  it('gives up on a hanging CLI after the timeout, and does not cache that', async () => {
    const dir = tempDir('ab-version-');
    const { bin, counter } = standIn(dir, '1.0.0', 'sleep 5\n');
    const agent = agentOf({ kind: 'claude', command: bin });
    const t0 = Date.now();
    assert.equal(await cliVersion('c', agent, process.env, dir, { timeoutMs: 300 }), null);
    assert.ok(Date.now() - t0 < 3_000, 'the timeout was not applied');
    assert.equal(await cliVersion('c', agent, process.env, dir, { timeoutMs: 300 }), null);
    assert.equal(calls(counter), 2, 'a timed-out probe is tried again');
  });
});

describe('versionStatus and compareVersions', () => {
  const range = { min: '2.0.0', max: '2.1.330' };
  it('includes both ends and compares numerically', () => {
    assert.equal(versionStatus('2.0.0', range), 'tested');
    assert.equal(versionStatus('2.1.330', range), 'tested');
    assert.equal(versionStatus('2.1.40', range), 'tested', '40 < 330, whatever the strings say');
    assert.equal(versionStatus('2.1.331', range), 'newer');
    assert.equal(versionStatus('2.2', range), 'newer');
    assert.equal(versionStatus('10.0.0', range), 'newer');
    assert.equal(versionStatus('1.99.999', range), 'older');
    assert.equal(versionStatus('v2.1.0', range), 'tested');
    assert.equal(
      versionStatus('2.0.0-beta.3', range),
      'older',
      'a pre-release precedes its release',
    );
    assert.equal(versionStatus('2.1.330+build.7', range), 'tested');
  });
  it('is unknown without a version, a range, or with garbage', () => {
    assert.equal(versionStatus(null, range), 'unknown');
    assert.equal(versionStatus('', range), 'unknown');
    assert.equal(versionStatus('abc', range), 'unknown');
    assert.equal(versionStatus('2.1.0', null), 'unknown');
  });
  it('orders long and date-like versions', () => {
    assert.equal(compareVersions('0.10.0', '0.9.0'), 1);
    assert.equal(compareVersions('0.0.1790142911', '0.0.1790142912'), -1);
    assert.equal(compareVersions('2025.12.31', '2025.2.1'), 1);
    assert.equal(compareVersions('1.2', '1.2.0'), 0);
    assert.equal(compareVersions('1.2.0.1', '1.2.0'), 1);
    assert.equal(compareVersions('1.0.0-alpha', '1.0.0-beta'), -1);
    assert.equal(compareVersions('1.0.0-beta.2', '1.0.0-beta.11'), -1);
  });
  it('parses the first version in a --version line', () => {
    assert.equal(parseVersion('2.1.3 (Claude Code)'), '2.1.3');
    assert.equal(parseVersion('codex-cli 0.120.0\n'), '0.120.0');
    assert.equal(parseVersion('opencode v1.2.3-beta.1'), '1.2.3-beta.1');
    assert.equal(parseVersion('nothing'), null);
  });
});

describe('tested range', () => {
  it("is the adapter's unless agents.<name>.tested_versions overrides it", () => {
    const plain = agentOf({ kind: 'claude' });
    assert.deepEqual(testedRange(adapterFor('c', plain), plain), { min: '2.0.0', max: '2.1.330' });
    const over = agentOf({ kind: 'claude', tested_versions: { min: '9.0.0', max: '9.9.9' } });
    const r = testedRange(adapterFor('c', over), over);
    assert.deepEqual(r, { min: '9.0.0', max: '9.9.9' });
    assert.equal(versionStatus('9.9.9', r), 'tested');
    assert.equal(versionStatus('2.1.0', r), 'older');
  });
  it('the override is a strict object of two versions', () => {
    for (const bad of [
      { min: '1.0.0' },
      { min: '1.0.0', max: 'latest' },
      { min: '1.0.0', max: '2.0.0', pin: true },
      '1.0.0',
    ]) {
      assert.equal(agentSchema.safeParse({ kind: 'claude', tested_versions: bad }).success, false);
    }
  });
  it('the warning names the range and how to override it', () => {
    const w = untestedVersionWarning('bot', '9.9.9', { min: '2.0.0', max: '2.1.330' });
    assert.match(w ?? '', /9\.9\.9 is newer than the tested range 2\.0\.0 to 2\.1\.330/);
    assert.match(w ?? '', /agents\.bot\.tested_versions/);
    assert.equal(untestedVersionWarning('bot', '2.1.0', { min: '2.0.0', max: '2.1.330' }), null);
    assert.equal(untestedVersionWarning('bot', null, { min: '2.0.0', max: '2.1.330' }), null);
  });
  it('validate uses the override: a 9.9.9 stand-in is tested once the range says so', async () => {
    const dir = tempDir('ab-version-');
    const { bin } = standIn(dir, '9.9.9');
    const base = { kind: 'claude', command: bin, token: 'sk-x' };
    const o = { env: process.env, home: dir, cwd: dir };
    const before = await checkAgent('bot', agentOf(base), o);
    assert.equal(before.versionStatus, 'newer');
    assert.equal(before.versionOk, false);
    assert.ok(before.warnings.some((w) => /tested range 2\.0\.0 to 2\.1\.330/.test(w)));
    const after = await checkAgent(
      'bot',
      agentOf({ ...base, tested_versions: { min: '9.0.0', max: '10.0.0' } }),
      o,
    );
    assert.equal(after.versionStatus, 'tested');
    assert.equal(after.versionOk, true);
    assert.deepEqual(after.warnings, []);
  });
});

describe('serve warns once at start', () => {
  const servers: ServeProcess[] = [];
  after(async () => {
    for (const s of servers) await s.kill('SIGKILL').catch(() => {});
  });

  it('one line per agent with an untested version or no credentials, after the ready line', async () => {
    const root = tempDir('ab-serve-warn-');
    const home = path.join(root, 'board');
    fs.mkdirSync(home);
    // --version takes 1.5 s: the server must be ready before the answer.
    const newer = standIn(fs.mkdtempSync(path.join(root, 'a-')), 'claude 9.9.9', 'sleep 1.5\n').bin;
    const tested = standIn(fs.mkdtempSync(path.join(root, 'b-')), '2.1.0').bin;
    const codex = standIn(fs.mkdtempSync(path.join(root, 'c-')), '0.120.0').bin;
    const config = {
      agents: {
        bot: { kind: 'claude', command: newer, token: 'sk-x' },
        fine: { kind: 'claude', command: tested, token: 'sk-x' },
        nokey: { kind: 'codex', command: codex },
        plain: { kind: 'command', command: 'true' },
      },
    };
    fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config));
    const s = await startServe(home, {
      env: { HOME: root, OPENAI_API_KEY: '', ANTHROPIC_API_KEY: '' },
      args: ['--port', '0'],
    });
    servers.push(s);
    assert.doesNotMatch(s.stderr, /agent bot:/, 'the start waited for --version');
    const deadline = Date.now() + 20_000;
    while (!/agent bot:/.test(s.stderr) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 1_000));
    const lines = s.stderr.split('\n').filter((l) => /warning: agent /.test(l));
    const bot = lines.filter((l) => l.includes('agent bot:'));
    assert.equal(bot.length, 1, s.output());
    assert.match(
      bot[0] ?? '',
      /^\[agentboard\] warning: agent bot: version 9\.9\.9 is newer than the tested range 2\.0\.0 to 2\.1\.330: .*agents\.bot\.tested_versions/,
    );
    const nokey = lines.filter((l) => l.includes('agent nokey:'));
    assert.equal(nokey.length, 1, s.output());
    assert.match(nokey[0] ?? '', /no credentials: .*OPENAI_API_KEY/);
    assert.equal(lines.length, 2, `only bot and nokey warn:\n${lines.join('\n')}`);
    assert.ok(!s.stderr.includes('sk-x'));
  });
});
