/**
 * Re-adoption never repeats a transcript event: the real Codex CLI is in the
 * middle of a shell tool call when the server is SIGKILLed; the restarted
 * server resumes parsing from the stored offset with the parser's stored
 * state, so the call and its result are in the transcript exactly once.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { openApp } from '../../src/app/context.js';
import { readRunEvents } from '../../src/store/run-events.js';
import { getRun, listRuns } from '../../src/store/runs.js';
import { cliEnv, startModelServer } from '../support/model-servers/index.js';
import { type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { killRunProcesses, waitFor } from './helpers.js';

test('a server SIGKILL during a Codex tool call: each call and result is in the transcript once', {
  timeout: 180_000,
}, async (t) => {
  const model = await startModelServer(
    'codex',
    [
      { text: 'Working on it.', tool: { shell: 'sleep 4; echo hello > out.txt; cat out.txt' } },
      { text: 'Created out.txt. DONE' },
    ],
    { quiet: true },
  );
  t.after(() => model.close());
  const root = tempDir('agentboard-readopt-codex-');
  const home = path.join(root, 'home');
  const workspace = path.join(root, 'workspace');
  fs.mkdirSync(home);
  fs.mkdirSync(workspace);
  const setup = cliEnv('codex', model.url, path.join(root, 'cli-home'), {
    maxRetries: 0,
    model: 'gpt-5.5',
  });
  const { OPENAI_API_KEY: _key, ...env } = setup.env;
  const config = {
    agents: {
      codex: {
        kind: 'codex',
        command: setup.bin,
        model: 'gpt-5.5',
        permission_mode: 'danger-full-access',
        env,
        token: 'sk-scripted-test',
        timeout: '120s',
      },
    },
    defaults: { agent: 'codex', max_attempts: 1, lease: '3s' },
    board: { workdir: workspace },
  };
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config));
  const app = await openApp({ env: { AGENTBOARD_HOME: home }, cwd: root });
  let server: ServeProcess | undefined = await startServe(home);
  t.after(async () => {
    server?.forceKill();
    killRunProcesses(home);
    await app.store.close();
  });
  const { addTask } = await import('../../src/app/tasks.js');
  await addTask(app, { title: 'slow tool', body: 'Create out.txt.', agent: 'codex' });
  const runId = await waitFor(
    'the tool call to be stored while it runs',
    async () => {
      const [r] = await listRuns(app.store.db, {});
      if (!r) return undefined;
      const events = await readRunEvents(app.store.db, r.id, { afterSeq: 0, limit: 100 });
      const called = events.some((e) => e.event.type === 'tool_call');
      const done = events.some((e) => e.event.type === 'tool_result');
      return called && !done ? r.id : undefined;
    },
    60_000,
  );
  await server.kill('SIGKILL');
  server = await startServe(home);
  const ended = await waitFor(
    'the run to end after re-adoption',
    async () => {
      const r = await getRun(app.store.db, runId);
      return r?.ended_at ? r : undefined;
    },
    90_000,
  );
  assert.equal(ended.state, 'succeeded', ended.error_summary ?? '');
  assert.equal(fs.readFileSync(path.join(workspace, 'out.txt'), 'utf8'), 'hello\n');
  const events = (await readRunEvents(app.store.db, runId, { afterSeq: 0, limit: 1000 })).map(
    (e) => e.event,
  );
  const calls = events.filter((e) => e.type === 'tool_call');
  const results = events.filter((e) => e.type === 'tool_result');
  assert.equal(calls.length, 1, `tool calls: ${JSON.stringify(calls)}`);
  assert.equal(results.length, 1, `tool results: ${JSON.stringify(results)}`);
  assert.equal(events.filter((e) => e.type === 'result').length, 1);
});
