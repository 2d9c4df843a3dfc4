/**
 * Graceful shutdown: SIGTERM to `serve` leaves its agents running; the next
 * start re-adopts those still alive, records the exit of one that ended while
 * no server ran, and records the others' exits when they end.
 * `agentboard stop --all` then stops every agent, with the engine running and
 * without one.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import type { App } from '../../src/app/context.js';
import { getRun, listRuns, type RunRow } from '../../src/store/runs.js';
import { getTask } from '../../src/store/tasks.js';
import { type AgentStep, readLedger } from '../fixtures/crash-agent-lib.js';
import { runCli, type ServeProcess, startServe } from '../support/server.js';
import {
  addAgentTask,
  type Board,
  createBoard,
  describeProcs,
  isAlive,
  killRunProcesses,
  runProcesses,
  runsOfTask,
  waitFor,
} from './helpers.js';

async function startTasks(app: App, board: Board, steps: AgentStep[]) {
  const started: { taskId: number; run: RunRow; agentPid: number; step: AgentStep }[] = [];
  for (const [i, step] of steps.entries()) {
    const taskId = await addAgentTask(app, `task ${i}`, { steps: [step] });
    const run = await waitFor(`task ${i} to start`, async () => {
      const [r] = await runsOfTask(app, taskId);
      return r?.state === 'running' && r.pid !== null ? r : undefined;
    });
    const agentPid = await waitFor(
      `agent ${i} to start`,
      () => readLedger(board.ledger).starts.get(run.id)?.[0]?.pid,
    );
    started.push({ taskId, run, agentPid, step });
  }
  return started;
}

async function stopAll(app: App, board: Board, taskIds: number[]): Promise<void> {
  const res = await runCli(board.home, ['stop', '--all']);
  assert.equal(res.code, 0, res.stderr);
  for (const id of taskIds) assert.match(res.stdout, new RegExp(`\\(T-${id}\\): cancelled`));
  const left = runProcesses(board.home);
  assert.deepEqual(left, [], describeProcs(left));
  for (const id of taskIds) {
    const runs = await runsOfTask(app, id);
    assert.deepEqual(
      runs.map((r) => r.state),
      ['cancelled'],
    );
    const task = await getTask(app.store.db, id);
    assert.equal(task?.status, 'blocked');
    assert.equal(task?.status_reason, 'stopped by user');
  }
  assert.deepEqual(await listRuns(app.store.db, { states: ['queued', 'claimed', 'running'] }), []);
}

test('graceful shutdown leaves agents running; the next start adopts them', {
  timeout: 120_000,
}, async (t) => {
  const board = createBoard({ defaults: { max_attempts: 1, stop_grace: '1s' } });
  const app = await board.open();
  let server: ServeProcess | undefined;
  try {
    server = await startServe(board.home, { logFile: board.serveLog });
    const first = server.workerId;
    const tasks = await startTasks(app, board, [
      { ms: 12_000, exit: 0, bytes: 200_000 },
      { ms: 12_000, exit: 5, bytes: 0 },
      { ms: 3000, exit: 3, bytes: 1000, kids: [{ ms: 600_000 }] },
    ]);
    const short = tasks[2] as (typeof tasks)[number];

    // Promptly: a graceful stop does not wait for the agents.
    const st = await server.stop(5000);
    assert.equal(st.code, 0, server.output());
    assert.match(server.stdout, /SIGTERM: stopping; 3 agent\(s\) keep running/);
    for (const x of tasks) {
      assert.ok(isAlive(x.agentPid), `agent ${x.agentPid} died with the server`);
      assert.equal((await getRun(app.store.db, x.run.id))?.state, 'running');
    }
    const worker = await app.store.db
      .selectFrom('workers')
      .selectAll()
      .where('id', '=', first as string)
      .executeTakeFirst();
    assert.notEqual(worker?.stopped_at, null, 'the worker is not marked stopped');

    // One agent ends while no server runs; its grandchild stays behind for now.
    await waitFor(
      'the short agent to end',
      () => readLedger(board.ledger).ends.get(short.run.id),
      20_000,
    );
    await waitFor('its supervisor to exit', () => !isAlive(short.run.pid as number));
    const kid = readLedger(board.ledger).kids.get(short.run.id)?.[0] as number;
    assert.ok(isAlive(kid));

    server = await startServe(board.home, { logFile: board.serveLog });
    assert.match(server.stdout, /recovered: 2 re-adopted, 1 exits recorded, 0 lost/);
    await waitFor(
      "the ended run's orphaned grandchild to be cleaned up",
      () => !isAlive(kid),
      3000,
    );

    for (const x of tasks) {
      const run = await waitFor(
        `${x.run.id} to end`,
        async () => {
          const r = await getRun(app.store.db, x.run.id);
          return r && r.state !== 'running' ? r : undefined;
        },
        30_000,
      );
      assert.equal(run.exit_code, x.step.exit, `exit code of ${x.run.id}`);
      assert.equal(run.state, x.step.exit === 0 ? 'succeeded' : 'failed');
      assert.equal(run.worker_id, server.workerId);
      const task = await getTask(app.store.db, x.taskId);
      assert.equal(task?.status, x.step.exit === 0 ? 'review' : 'blocked');
    }
    const left = runProcesses(board.home);
    assert.deepEqual(left, [], describeProcs(left));
    t.diagnostic('SIGTERM: 3 agents kept running; restart: 2 re-adopted, 1 exit recorded');

    // stop --all, engine running.
    const hangers = await startTasks(app, board, [
      { ms: 100, exit: 0, bytes: 500, hang: 'chatty' },
      {
        ms: 100,
        exit: 0,
        bytes: 500,
        hang: 'silent',
        ignoreTerm: true,
        kids: [{ ms: 600_000, ignoreTerm: true }],
      },
      { ms: 100, exit: 0, bytes: 0, hang: 'silent' },
    ]);
    await stopAll(
      app,
      board,
      hangers.map((h) => h.taskId),
    );

    // stop --all with no engine: the CLI stops the agents and records the ends itself.
    const orphaned = await startTasks(app, board, [
      { ms: 100, exit: 0, bytes: 500, hang: 'chatty', ignoreTerm: true },
      { ms: 100, exit: 0, bytes: 500, hang: 'silent', kids: [{ ms: 600_000 }] },
    ]);
    await server.stop(5000);
    server = undefined;
    for (const o of orphaned) assert.ok(isAlive(o.agentPid));
    await stopAll(
      app,
      board,
      orphaned.map((h) => h.taskId),
    );
  } finally {
    (server as ServeProcess | undefined)?.forceKill();
    killRunProcesses(board.home);
    await app.store.close();
  }
});
