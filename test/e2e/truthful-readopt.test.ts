import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { AgentEvent } from '../../src/agents/events.js';
import { openApp } from '../../src/app/context.js';
import { addTask } from '../../src/app/tasks.js';
import { readRunEvents } from '../../src/store/run-events.js';
import { getRun, listRuns } from '../../src/store/runs.js';
import { getTask } from '../../src/store/tasks.js';
import type { ModelTurn } from '../support/model-servers/index.js';
import { startModelServer } from '../support/model-servers/index.js';
import { type ServeProcess, startServe } from '../support/server.js';
import { cliAgent, describeRun, eventTypes, KINDS, sleep } from './harness.js';

/**
 * Truthful outcomes (issue 14): `agentboard serve` is SIGKILLed while Codex runs a tool call and
 * restarted; the re-adopted run's transcript holds each call and each result exactly once (the
 * parser's state is persisted with its offset).
 */
const SLOW_TOOL: ModelTurn[] = [
  { text: 'I will create the file slowly.', tool: { shell: 'sleep 4 && echo hello > out.txt' } },
  { text: 'Created out.txt. DONE' },
];

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

for (const kind of KINDS.filter((k) => k === 'codex')) {
  test(`${kind}: a server SIGKILL during a tool call, then a restart: the transcript has each call and result exactly once`, async (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), `ab-e2e-readopt-${kind}-`));
    const home = path.join(root, 'board');
    const workspace = path.join(root, 'workspace');
    fs.mkdirSync(home);
    fs.mkdirSync(workspace);
    const modelServer = await startModelServer(kind, SLOW_TOOL, { quiet: true });
    let serve: ServeProcess | undefined;
    t.after(async () => {
      await serve?.kill('SIGKILL').catch(() => {});
      await modelServer.close();
      fs.rmSync(root, { recursive: true, force: true });
    });
    const config = {
      agents: { [kind]: cliAgent(kind, modelServer, root) },
      defaults: { max_attempts: 1 },
      board: { workdir: workspace },
    };
    fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config, null, 2));
    const app = await openApp({ env: { AGENTBOARD_HOME: home }, cwd: root });
    t.after(() => app.store.close());

    serve = await startServe(home);
    const task = await addTask(app, { title: 'Create out.txt slowly', agent: kind });
    const id = Number(task.id.slice(2));
    const events = async (runId: string): Promise<AgentEvent[]> =>
      (await readRunEvents(app.store.db, runId, { afterSeq: 0, limit: 100_000 })).map(
        (e) => e.event,
      );

    // Kill the server once the tool call is in the transcript and before the tool has finished.
    const runId = await until('the tool call in the transcript', async () => {
      const [run] = await listRuns(app.store.db, { taskId: id });
      if (!run) return undefined;
      const evs = await events(run.id);
      return evs.some((e) => e.type === 'tool_call') ? run.id : undefined;
    });
    assert.ok(!fs.existsSync(path.join(workspace, 'out.txt')), 'the tool finished before the kill');
    await serve.kill('SIGKILL');
    await sleep(1000);
    serve = await startServe(home);
    t.diagnostic(
      `restart: ${serve.stdout.split('\n').find((l) => l.includes('recovered')) ?? '(no recovery line)'}`,
    );

    const ended = await until('the run to end', async () => {
      const r = await getRun(app.store.db, runId);
      return r && !['queued', 'claimed', 'running'].includes(r.state) ? r : undefined;
    });
    const status = (await getTask(app.store.db, id))?.status;
    const evs = await events(runId);
    t.diagnostic(`${describeRun(ended)} card=${status} events=${eventTypes(evs)}`);
    assert.equal(fs.readFileSync(path.join(workspace, 'out.txt'), 'utf8'), 'hello\n');
    assert.equal(ended.state, 'succeeded', describeRun(ended));
    const calls = evs.filter((e) => e.type === 'tool_call');
    const results = evs.filter((e) => e.type === 'tool_result');
    assert.equal(calls.length, 1, `tool calls: ${JSON.stringify(calls)}`);
    assert.equal(results.length, 1, `tool results: ${JSON.stringify(results)}`);
    assert.equal(evs.filter((e) => e.type === 'result').length, 1);
    assert.equal(evs.filter((e) => e.type === 'session').length, 1);
  });
}
