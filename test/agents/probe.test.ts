import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { PROBE_PROMPT, type ProbeOptions, probeAgent } from '../../src/agents/probe.js';
import { type AgentConfig, agentSchema } from '../../src/config/schema.js';
import {
  cliEnv,
  type ModelServer,
  type Scenario,
  startModelServer,
} from '../support/model-servers/index.js';
import { tempDir } from '../support/tmp.js';

const servers: ModelServer[] = [];
after(async () => {
  for (const s of servers) await s.close().catch(() => {});
});

const agentOf = (o: Record<string, unknown>): AgentConfig => agentSchema.parse(o);

function script(dir: string, name: string, body: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

function opts(dir: string, extra: Partial<ProbeOptions> = {}): ProbeOptions {
  return { env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, home: dir, cwd: dir, ...extra };
}

/** Whether `pid` runs (a zombie, killed but not yet reaped by init, does not count). */
function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
}

/** A port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

describe('probeAgent with the real claude CLI against a scripted server', () => {
  /** The agent as a user would configure it: the key in `token`, not in the environment. */
  async function claudeAgent(
    scenario: Scenario | null,
  ): Promise<{ agent: AgentConfig; server: ModelServer | null; dir: string }> {
    const dir = tempDir('ab-probe-claude-');
    const server = scenario ? await startModelServer('claude', scenario, { quiet: true }) : null;
    if (server) servers.push(server);
    const url = server ? server.url : `http://127.0.0.1:${await closedPort()}`;
    const setup = cliEnv('claude', url, path.join(dir, 'cli-home'), {
      maxRetries: 0,
      model: 'claude-sonnet-4-5',
    });
    const { ANTHROPIC_API_KEY: _key, ...env } = setup.env;
    const agent = agentOf({
      kind: 'claude',
      command: setup.bin,
      model: 'claude-sonnet-4-5',
      env,
      token: 'sk-scripted-test',
    });
    return { agent, server, dir };
  }

  it('ok: one request, with the key from config', async () => {
    const { agent, server, dir } = await claudeAgent([{ text: 'OK' }]);
    const r = await probeAgent('claude', agent, opts(dir));
    assert.equal(r.status, 'ok', JSON.stringify(r));
    assert.equal(r.reason, 'claude answered');
    const main = server?.requests.filter((q) => q.kind === 'main') ?? [];
    assert.ok(main.length >= 1, 'no request reached the server');
    assert.equal(main[0]?.headers['x-api-key'], 'sk-scripted-test');
    assert.match(JSON.stringify(main[0]?.body), /Reply with the word OK\./);
  });

  it('rejected: the server answers 401', async () => {
    const { agent, dir } = await claudeAgent({ status: 401 });
    const r = await probeAgent('claude', agent, opts(dir));
    assert.equal(r.status, 'rejected', JSON.stringify(r));
    assert.match(r.reason, /rejected claude's key/);
    assert.match(r.reason, /invalid api key/i);
    assert.ok(!r.reason.includes('\u001b') && !/\n|\s+at\s/.test(r.reason));
  });

  it('expired: a 401 authentication_error saying the key expired', async () => {
    const { agent, dir } = await claudeAgent({
      status: 401,
      body: {
        type: 'error',
        error: { type: 'authentication_error', message: 'This API key has expired.' },
      },
    });
    const r = await probeAgent('claude', agent, opts(dir));
    assert.equal(r.status, 'expired', JSON.stringify(r));
    assert.match(r.reason, /expired/);
  });

  it('unreachable: nothing listens on the base URL', async () => {
    const { agent, dir } = await claudeAgent(null);
    const r = await probeAgent('claude', agent, opts(dir, { timeoutMs: 60_000 }));
    assert.equal(r.status, 'unreachable', JSON.stringify(r));
    assert.match(r.reason, /could not reach its provider|no answer within/);
  });
});

describe('probeAgent with stand-in commands', () => {
  it('ok: exit 0; the prompt arrives on stdin, in a temp dir that is removed afterwards', async () => {
    const dir = tempDir('ab-probe-');
    const seen = path.join(dir, 'seen');
    const bin = script(
      dir,
      'agent',
      `cat > ${JSON.stringify(seen)}\npwd >> ${JSON.stringify(`${seen}.cwd`)}\necho OK`,
    );
    const r = await probeAgent('bot', agentOf({ kind: 'command', command: bin }), opts(dir));
    assert.equal(r.status, 'ok', JSON.stringify(r));
    assert.equal(r.exitCode, 0);
    assert.equal(fs.readFileSync(seen, 'utf8'), PROBE_PROMPT);
    const cwd = fs.readFileSync(`${seen}.cwd`, 'utf8').trim();
    assert.notEqual(cwd, dir);
    assert.equal(fs.existsSync(cwd), false, 'the probe dir was left behind');
  });

  it('args are argv, never a shell: $(…) and backticks stay literal', async () => {
    const dir = tempDir('ab-probe-');
    const pwned = path.join(dir, 'pwned');
    const bin = script(
      dir,
      'agent',
      `printf '%s\\n' "$@" > ${JSON.stringify(path.join(dir, 'args'))}`,
    );
    const args = [`$(touch ${pwned})`, `\`touch ${pwned}\``, '; touch x'];
    const r = await probeAgent('bot', agentOf({ kind: 'command', command: bin, args }), opts(dir));
    assert.equal(r.status, 'ok');
    assert.equal(fs.existsSync(pwned), false);
    assert.deepEqual(fs.readFileSync(path.join(dir, 'args'), 'utf8').trim().split('\n'), args);
  });

  it('error: a non-zero exit, with the last words of stderr and no stack trace', async () => {
    const dir = tempDir('ab-probe-');
    const bin = script(
      dir,
      'agent',
      `echo 'Error: \x1b[31mboom\x1b[0m happened' >&2\necho '    at run (/x/y.js:1:2)' >&2\nexit 3`,
    );
    const r = await probeAgent('bot', agentOf({ kind: 'command', command: bin }), opts(dir));
    assert.equal(r.status, 'error');
    assert.equal(r.exitCode, 3);
    assert.equal(r.reason, 'bot exited 3: Error: boom happened');
  });

  it('unreachable: a timeout kills the whole process tree', async () => {
    const dir = tempDir('ab-probe-');
    const pidFile = path.join(dir, 'pid');
    const bin = script(dir, 'agent', `sleep 30 &\necho $! > ${JSON.stringify(pidFile)}\nwait`);
    const t0 = Date.now();
    const r = await probeAgent(
      'bot',
      agentOf({ kind: 'command', command: bin }),
      opts(dir, { timeoutMs: 700 }),
    );
    assert.ok(Date.now() - t0 < 10_000, 'the timeout did not apply');
    assert.equal(r.status, 'unreachable');
    assert.match(r.reason, /no answer within 1 s/);
    const pid = Number(fs.readFileSync(pidFile, 'utf8'));
    await new Promise((res) => setTimeout(res, 200));
    assert.ok(!alive(pid), 'the grandchild survived the timeout');
  });

  it('unreachable: a connection refused on stderr', async () => {
    const dir = tempDir('ab-probe-');
    const bin = script(
      dir,
      'agent',
      `echo 'request failed: connect ECONNREFUSED 127.0.0.1:9' >&2\nexit 1`,
    );
    const r = await probeAgent('bot', agentOf({ kind: 'command', command: bin }), opts(dir));
    assert.equal(r.status, 'unreachable');
    assert.match(r.reason, /ECONNREFUSED 127\.0\.0\.1:9/);
  });

  it('error: a command that is not installed, or not executable', async () => {
    const dir = tempDir('ab-probe-');
    const missing = await probeAgent(
      'bot',
      agentOf({ kind: 'command', command: 'no-such-agent-xyz' }),
      opts(dir),
    );
    assert.equal(missing.status, 'error');
    assert.match(missing.reason, /`no-such-agent-xyz` is not installed or not on PATH/);
    const plain = path.join(dir, 'plain');
    fs.writeFileSync(plain, 'echo hi\n', { mode: 0o644 });
    const noexec = await probeAgent('bot', agentOf({ kind: 'command', command: plain }), opts(dir));
    assert.equal(noexec.status, 'error');
  });

  it('error: a token_file that cannot be read is named, before anything is spawned', async () => {
    const dir = tempDir('ab-probe-');
    const r = await probeAgent(
      'claude',
      agentOf({ kind: 'claude', command: 'true', token_file: 'missing.key' }),
      opts(dir),
    );
    assert.equal(r.status, 'error');
    assert.match(r.reason, /token_file: cannot read .*missing\.key/);
  });

  /** A claude stand-in: prints the given stream-json lines, exits `code`. */
  function claudeStandIn(dir: string, lines: unknown[], tail = '', code = 0): AgentConfig {
    const out = lines.map((l) => `printf '%s\\n' '${JSON.stringify(l)}'`).join('\n');
    const bin = script(dir, 'claude', `cat > /dev/null\n${out}\n${tail}exit ${code}`);
    return agentOf({ kind: 'claude', command: bin, token: 'sk-x' });
  }
  const init = { type: 'system', subtype: 'init', session_id: 's1', model: 'm' };

  it('rejected / expired from a claude-shaped result with api_error_status 401', async () => {
    const dir = tempDir('ab-probe-');
    const rejected = claudeStandIn(
      dir,
      [
        init,
        {
          type: 'result',
          subtype: 'success',
          is_error: true,
          api_error_status: 401,
          result: 'Failed to authenticate. API Error: 401 invalid x-api-key',
          session_id: 's1',
        },
      ],
      '',
      1,
    );
    const r = await probeAgent('claude', rejected, opts(dir));
    assert.equal(r.status, 'rejected', JSON.stringify(r));
    const dir2 = tempDir('ab-probe-');
    const expired = claudeStandIn(
      dir2,
      [
        init,
        {
          type: 'result',
          subtype: 'success',
          is_error: true,
          api_error_status: 401,
          result:
            'API Error: 401 {"type":"authentication_error","message":"OAuth token has expired"}',
          session_id: 's1',
        },
      ],
      '',
      1,
    );
    const e = await probeAgent('claude', expired, opts(dir2));
    assert.equal(e.status, 'expired', JSON.stringify(e));
    assert.match(e.reason, /expired/);
  });

  it('rejected at the first 401 retry notice, without waiting for the CLI to give up', async () => {
    const dir = tempDir('ab-probe-');
    const agent = claudeStandIn(
      dir,
      [
        init,
        {
          type: 'system',
          subtype: 'api_retry',
          attempt: 1,
          max_retries: 10,
          retry_delay_ms: 500,
          error_status: 401,
          error: 'authentication_failed',
        },
      ],
      'sleep 30\n',
    );
    const t0 = Date.now();
    const r = await probeAgent('claude', agent, opts(dir));
    assert.equal(r.status, 'rejected', JSON.stringify(r));
    assert.ok(Date.now() - t0 < 10_000);
  });

  it('error: exit 0 with output the adapter does not recognise', async () => {
    const dir = tempDir('ab-probe-');
    const bin = script(dir, 'claude', 'cat > /dev/null\necho "OK, plain text"');
    const r = await probeAgent(
      'claude',
      agentOf({ kind: 'claude', command: bin, token: 'k' }),
      opts(dir),
    );
    assert.equal(r.status, 'error');
    assert.match(r.reason, /exited 0 without a final result/);
  });

  it('ok: a claude-shaped success', async () => {
    const dir = tempDir('ab-probe-');
    const agent = claudeStandIn(dir, [
      init,
      { type: 'result', subtype: 'success', is_error: false, result: 'OK', session_id: 's1' },
    ]);
    const r = await probeAgent('claude', agent, opts(dir));
    assert.equal(r.status, 'ok', JSON.stringify(r));
  });
});
