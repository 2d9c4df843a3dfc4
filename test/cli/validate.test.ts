import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { cliEnv, type Scenario, startModelServer } from '../support/model-servers/index.js';
import { tempDir } from '../support/tmp.js';

const BIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../bin/agentboard.js',
);
const CLAUDE = path.resolve(path.dirname(BIN), '../node_modules/.bin/claude');

function validate(config: string, args: string[] = [], env: Record<string, string> = {}) {
  const home = path.join(tempDir('agentboard-validate-'), '.agentboard');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'config.yaml'), config);
  const clean = { ...process.env };
  for (const k of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY']) delete clean[k];
  const r = spawnSync(process.execPath, [BIN, 'validate', ...args], {
    env: {
      ...clean,
      AGENTBOARD_HOME: home,
      HOME: tempDir('agentboard-validate-home-'),
      NO_COLOR: '1',
      ...env,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('validate: a missing CLI in use is reported with what to do, and exits 1', () => {
  const r = validate(
    'agents:\n  ghost:\n    kind: codex\n    command: no-such-codex\n    token: sk-x\ndefaults:\n  agent: ghost\n',
  );
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /ghost\s+codex\s+no-such-codex \(not found\)/);
  assert.match(
    r.stdout,
    /`no-such-codex` is not installed or not on PATH: install it or set agents\.ghost\.command/,
  );
  assert.match(r.stdout, /CANNOT RUN/);
});

test('validate: a real CLI without a key is reported (exit 1); with a key in the environment it is ok (exit 0)', () => {
  const config = `agents:\n  claude:\n    kind: claude\n    command: ${CLAUDE}\n`;
  const missing = validate(config, ['--agent', 'claude']);
  assert.equal(missing.code, 1, missing.stdout + missing.stderr);
  assert.match(
    missing.stdout,
    /no credentials: set agents\.claude\.token or token_file, export ANTHROPIC_API_KEY, or log in with the CLI/,
  );
  const ok = validate(config, ['--agent', 'claude', '--json'], {
    ANTHROPIC_API_KEY: 'sk-test-secret',
  });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const [report] = JSON.parse(ok.stdout) as {
    canRun: boolean;
    version: string;
    credentials: { source: string };
  }[];
  assert.equal(report?.canRun, true);
  assert.match(report?.version ?? '', /^\d+\.\d+\.\d+/);
  assert.equal(report?.credentials.source, 'env ANTHROPIC_API_KEY');
  assert.ok(!ok.stdout.includes('sk-test-secret'), 'the key was printed');
});

test('validate: an unused agent that cannot run does not fail the command', () => {
  const r = validate('agents:\n  spare:\n    kind: gemini\n    command: no-such-gemini\n');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /cannot run \(unused\)/);
});

test('validate --agent with an unknown name is a usage error', () => {
  const r = validate('agents: {}\n', ['--agent', 'nobody']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /agent "nobody" is not configured/);
});

/** A stand-in CLI printing `version` for --version, and exiting `code` otherwise. */
function standIn(version: string, body = 'cat > /dev/null; echo OK'): string {
  const bin = path.join(tempDir('agentboard-validate-bin-'), 'fake-cli');
  fs.writeFileSync(
    bin,
    `#!/bin/sh\nif [ "$1" = "--version" ]; then echo "${version}"; exit 0; fi\n${body}\n`,
    { mode: 0o755 },
  );
  return bin;
}

test('validate: why a token_file is refused shows in the table, not only in --json', () => {
  const bin = standIn('2.1.0');
  const home = tempDir('agentboard-validate-tok-');
  fs.mkdirSync(path.join(home, 'a-dir'));
  fs.writeFileSync(path.join(home, 'empty.key'), '  \n');
  const config = (file: string) =>
    `agents:\n  claude:\n    kind: claude\n    command: ${bin}\n    token_file: ${file}\ndefaults:\n  agent: claude\n`;
  const missing = validate(config(path.join(home, 'nope.key')));
  assert.equal(missing.code, 1, missing.stdout + missing.stderr);
  assert.match(
    missing.stdout,
    /- agents\.claude\.token_file \S*nope\.key cannot be used: no such file/,
  );
  const dir = validate(config(path.join(home, 'a-dir')));
  assert.match(
    dir.stdout,
    /- agents\.claude\.token_file \S*a-dir cannot be used: it is a directory/,
  );
  const empty = validate(config(path.join(home, 'empty.key')));
  assert.match(
    empty.stdout,
    /- agents\.claude\.token_file \S*empty\.key is empty: put the API key in it/,
  );
  assert.match(empty.stdout, /CANNOT RUN/);
});

test('validate: a version outside the tested range is flagged, naming the range and the override', () => {
  const bin = standIn('9.9.9');
  const r = validate(
    `agents:\n  claude:\n    kind: claude\n    command: ${bin}\n    token: sk-x\n`,
  );
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /claude\s+claude\s+\S+\s+9\.9\.9!/);
  assert.match(
    r.stdout,
    /- version 9\.9\.9 is newer than the tested range 2\.0\.0 to 2\.1\.330: .*agents\.claude\.tested_versions/,
  );
  const over = validate(
    `agents:\n  claude:\n    kind: claude\n    command: ${bin}\n    token: sk-x\n    tested_versions: { min: 9.0.0, max: 9.9.9 }\n`,
  );
  assert.doesNotMatch(over.stdout, /tested range/);
  assert.match(over.stdout, /9\.9\.9\s/);
  const bad = validate(
    `agents:\n  claude:\n    kind: claude\n    tested_versions: { min: 9.0.0, max: latest }\n`,
  );
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr + bad.stdout, /tested_versions/);
});

test('validate: gemini without security.auth.selectedType is a problem unless the environment picks the auth', () => {
  const bin = standIn('0.61.0');
  const geminiHome = tempDir('agentboard-validate-ghome-');
  const agent = (extra: string) =>
    `agents:\n  gem:\n    kind: gemini\n    command: ${bin}\n    env:\n      HOME: ${geminiHome}\n${extra}defaults:\n  agent: gem\n`;
  // No settings, a key and a base URL: gemini picks "gateway" and exits 41.
  const gateway = validate(
    agent('      GOOGLE_GEMINI_BASE_URL: http://127.0.0.1:9\n    token: k\n'),
  );
  assert.equal(gateway.code, 1, gateway.stdout + gateway.stderr);
  assert.match(
    gateway.stdout,
    /- gemini will exit 41 before any request: \S+\/\.gemini\/settings\.json has no security\.auth\.selectedType and GOOGLE_GEMINI_BASE_URL is set: set security\.auth\.selectedType/,
  );
  // Vertex selected in the environment, or a plain GEMINI_API_KEY: the CLI knows what to use.
  const vertex = validate(agent('      GOOGLE_GENAI_USE_VERTEXAI: "true"\n    token: k\n'));
  assert.doesNotMatch(vertex.stdout, /exit 41/);
  const key = validate(agent('    token: k\n'));
  assert.doesNotMatch(key.stdout, /exit 41/);
  assert.equal(key.code, 0, key.stdout);
  // The file says which: fine even with a base URL.
  fs.mkdirSync(path.join(geminiHome, '.gemini'));
  fs.writeFileSync(
    path.join(geminiHome, '.gemini', 'settings.json'),
    JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } }),
  );
  const set = validate(agent('      GOOGLE_GEMINI_BASE_URL: http://127.0.0.1:9\n    token: k\n'));
  assert.doesNotMatch(set.stdout, /exit 41/);
  assert.equal(set.code, 0, set.stdout);
  // A broken file is named as such.
  fs.writeFileSync(path.join(geminiHome, '.gemini', 'settings.json'), '{ not json');
  const broken = validate(
    agent('      GOOGLE_GEMINI_BASE_URL: http://127.0.0.1:9\n    token: k\n'),
  );
  assert.match(broken.stdout, /settings\.json is not valid JSON/);
});

/** `validate` as a child process without blocking this one (a model server may run here). */
function validateAsync(
  config: string,
  args: string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const home = path.join(tempDir('agentboard-validate-'), '.agentboard');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'config.yaml'), config);
  const clean = { ...process.env };
  for (const k of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY']) delete clean[k];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'validate', ...args], {
      env: {
        ...clean,
        AGENTBOARD_HOME: home,
        HOME: tempDir('agentboard-validate-home-'),
        NO_COLOR: '1',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('validate --probe: each agent answers ok / error with why in the table and in --json; exit 1 unless all ok', async () => {
  const good = standIn('1.0.0');
  const bad = standIn('1.0.0', 'echo "Invalid API key: sk-...xyz was revoked" >&2; exit 1');
  const slow = standIn('1.0.0', 'sleep 30');
  const config = `agents:\n  good:\n    kind: command\n    command: ${good}\n  bad:\n    kind: command\n    command: ${bad}\n  slow:\n    kind: command\n    command: ${slow}\n`;
  const r = await validateAsync(config, ['--probe', '--timeout', '1s']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /STATUS\s+PROBE/);
  assert.match(r.stdout, /^good .* ok\s+ok$/m);
  assert.match(r.stdout, /- probe ok: good answered/);
  assert.match(r.stdout, /^bad .* rejected$/m);
  assert.match(
    r.stdout,
    /- probe rejected: the provider rejected bad's key: Invalid API key: sk-\.\.\.xyz was revoked\. Check or replace the key\./,
  );
  assert.match(r.stdout, /- probe unreachable: slow got no answer within 1 s/);

  const json = await validateAsync(config, ['good', 'bad', '--probe', '--json']);
  assert.equal(json.code, 1);
  const reports = JSON.parse(json.stdout) as {
    name: string;
    probe: { status: string; reason: string };
  }[];
  assert.deepEqual(
    reports.map((x) => [x.name, x.probe.status]),
    [
      ['good', 'ok'],
      ['bad', 'rejected'],
    ],
  );
  assert.match(reports[1]?.probe.reason ?? '', /Invalid API key/);

  const one = await validateAsync(config, ['good', '--probe']);
  assert.equal(one.code, 0, one.stdout + one.stderr);
  assert.doesNotMatch(one.stdout, /^bad/m);

  const badTimeout = await validateAsync(config, ['--probe', '--timeout', 'soon']);
  assert.equal(badTimeout.code, 2);
  assert.match(badTimeout.stderr, /not a duration/);
});

test('validate --probe with the real claude CLI: ok against a scripted server, rejected on 401', async () => {
  for (const [scenario, status] of [
    [[{ text: 'OK' }], 'ok'],
    [{ status: 401 }, 'rejected'],
  ] as const) {
    const server = await startModelServer('claude', scenario as Scenario, { quiet: true });
    try {
      const setup = cliEnv('claude', server.url, tempDir('agentboard-validate-cli-'));
      const { ANTHROPIC_API_KEY: _k, ...env } = setup.env;
      const config = `agents:\n  claude:\n    kind: claude\n    command: ${setup.bin}\n    token: sk-scripted-test\n    env: ${JSON.stringify(env)}\n`;
      const r = await validateAsync(config, ['--probe']);
      assert.equal(r.code, status === 'ok' ? 0 : 1, r.stdout + r.stderr);
      assert.match(r.stdout, new RegExp(`- probe ${status}: `));
      assert.ok(!r.stdout.includes('sk-scripted-test'), 'the key was printed');
    } finally {
      await server.close();
    }
  }
});
