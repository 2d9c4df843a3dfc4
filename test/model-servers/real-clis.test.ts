/**
 * The scripted model servers drive the REAL agent CLIs from node_modules: a shell tool call that
 * writes a file in the cwd, an API error that must end the run quickly, and a resumed session.
 * Claude Code, Codex and Gemini run here on their own; opencode, Copilot CLI and Qwen Code are
 * driven through agentboard's engine in test/e2e/ (Qwen Code, for one, exits 0 on a 401).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  assistantText,
  CLI_KINDS,
  type CliKind,
  cliEnv,
  jsonLines,
  type ModelServer,
  runCli,
  type Scenario,
  startModelServer,
  toolResults,
} from '../support/model-servers/index.js';
import { AUTH_ERROR, AUTH_MESSAGE, SHELL_SUCCESS } from '../support/model-servers/scenarios.js';
import { tempDir } from '../support/tmp.js';

const _SHELL = 'echo hello > out.txt && cat out.txt';
const SUCCESS = SHELL_SUCCESS;

function workspace(): { home: string; cwd: string } {
  const root = tempDir('ab-model-servers-');
  const cwd = join(root, 'project');
  mkdirSync(cwd);
  return { home: join(root, 'home'), cwd };
}

function sessionId(kind: CliKind, stdout: string): string {
  for (const e of jsonLines(stdout)) {
    if (kind === 'codex' && e.type === 'thread.started') return String(e.thread_id);
    if (kind !== 'codex' && typeof e.session_id === 'string') return e.session_id;
  }
  throw new Error(`no session id in:\n${stdout}`);
}

async function withServer<T>(
  kind: CliKind,
  scenario: Scenario,
  fn: (s: ModelServer) => Promise<T>,
): Promise<T> {
  const server = await startModelServer(kind, scenario);
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

for (const kind of CLI_KINDS.filter((k) => ['claude', 'codex', 'gemini'].includes(k))) {
  describe(`${kind} against its scripted server`, () => {
    test('runs the shell tool, sends the result back and finishes', { timeout: 90_000 }, () =>
      withServer(kind, SUCCESS, async (server) => {
        const { home, cwd } = workspace();
        const run = await runCli(cliEnv(kind, server.url, home), 'Create out.txt', { cwd });
        const why = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
        assert.equal(run.code, 0, why);
        assert.equal(readFileSync(join(cwd, 'out.txt'), 'utf8'), 'hello\n');
        const results = toolResults(kind, server.requests);
        assert.equal(results.length, 1, JSON.stringify(results));
        assert.match(results[0] ?? '', /hello/);
        const turns = server.requests.filter((r) => r.kind === 'main').map((r) => r.turn);
        assert.deepEqual([...new Set(turns)], [0, 1]);
        assert.deepEqual(
          server.requests.filter((r) => r.kind === 'unknown').map((r) => r.url),
          [],
        );
        assert.match(assistantText(kind, run.stdout), /Created out\.txt containing hello\. DONE/);
      }),
    );

    test('exits non-zero quickly on a 401, showing the API message', { timeout: 90_000 }, () =>
      withServer(kind, AUTH_ERROR[kind], async (server) => {
        const { home, cwd } = workspace();
        const setup = cliEnv(kind, server.url, home, { maxRetries: 0 });
        const run = await runCli(setup, 'Create out.txt', { cwd, timeoutMs: 60_000 });
        const why = `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`;
        assert.equal(run.timedOut, false, why);
        assert.ok(run.code !== null && run.code !== 0, `exit ${run.code}\n${why}`);
        assert.ok(run.durationMs < 60_000);
        assert.ok(run.stdout.includes(AUTH_MESSAGE), why);
        assert.ok(server.requests.every((r) => r.kind === 'error'));
        assert.equal(existsSync(join(cwd, 'out.txt')), false);
      }),
    );

    test('a resumed session continues the conversation', { timeout: 90_000 }, () =>
      withServer(kind, SUCCESS, async (server) => {
        const { home, cwd } = workspace();
        const first = await runCli(cliEnv(kind, server.url, home), 'Create out.txt', { cwd });
        assert.equal(first.code, 0, first.stderr);
        const id = sessionId(kind, first.stdout);
        const setup = cliEnv(kind, server.url, home, { resume: id });
        const run = await runCli(setup, 'What did you do?', { cwd });
        assert.equal(run.code, 0, `stdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
        assert.equal(sessionId(kind, run.stdout), id);
        assert.match(assistantText(kind, run.stdout), /Resumed: I created out\.txt earlier\. DONE/);
        const last = server.requests.filter((r) => r.kind === 'main').at(-1);
        assert.equal(last?.turn, 2, 'the resumed request carries the two earlier model turns');
      }),
    );
  });
}
