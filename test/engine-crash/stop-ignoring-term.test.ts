/**
 * `agentboard stop` on an agent that ignores SIGTERM and has forked
 * grandchildren (one of which ignores SIGTERM too): the whole process group
 * is SIGKILLed once stop_grace has passed, nothing is left in /proc, the run
 * is `cancelled` and the card Blocked with "stopped by user". Checked with
 * the engine's own child, with a run re-adopted after a crash, and with no
 * engine running at all.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../../src/app/context.js';
import { getRun } from '../../src/store/runs.js';
import { getTask } from '../../src/store/tasks.js';
import { readLedger } from '../fixtures/crash-agent-lib.js';
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

const GRACE_MS = 1000;

/** Starts a stubborn agent and returns its run id, agent pid and grandchildren once all are up. */
async function startStubborn(app: App, board: Board) {
  const taskId = await addAgentTask(app, 'stubborn', {
    steps: [
      {
        ms: 500,
        exit: 0,
        bytes: 4096,
        hang: 'chatty',
        ignoreTerm: true,
        kids: [{ ms: 600_000, ignoreTerm: true }, { ms: 600_000 }],
      },
    ],
  });
  const run = await waitFor('the run to start', async () => {
    const [r] = await runsOfTask(app, taskId);
    return r?.state === 'running' && r.pid !== null ? r : undefined;
  });
  const { agentPid, kids } = await waitFor('the agent and its grandchildren', () => {
    const l = readLedger(board.ledger);
    const start = l.starts.get(run.id)?.[0];
    const k = l.kids.get(run.id) ?? [];
    return start && k.length === 2 && k.every(isAlive)
      ? { agentPid: start.pid, kids: k }
      : undefined;
  });
  return { taskId, runId: run.id, shimPid: run.pid as number, agentPid, kids };
}

/** Runs `stop`, watching when the agent dies; checks everything the stop promises. */
async function stopAndCheck(app: App, board: Board, s: Awaited<ReturnType<typeof startStubborn>>) {
  let diedAt = 0;
  const watch = (async () => {
    while (isAlive(s.agentPid)) await sleep(10);
    diedAt = Date.now();
  })();
  const stopStarted = Date.now();
  const res = await runCli(board.home, ['stop', `T-${s.taskId}`]);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, new RegExp(`${s.runId} \\(T-${s.taskId}\\): cancelled`));
  await watch;

  // SIGTERM reached the agent, which ignored it: only SIGKILL, after the grace, ended it.
  const terms = readLedger(board.ledger).terms.get(s.runId) ?? [];
  assert.ok(terms.length >= 1, 'the agent never saw SIGTERM');
  const waited = diedAt - (terms[0] as number);
  assert.ok(
    waited >= GRACE_MS - 250,
    `killed ${waited} ms after SIGTERM, stop_grace is ${GRACE_MS}`,
  );
  assert.ok(diedAt - stopStarted < GRACE_MS + 8000, 'the stop took far longer than its grace');

  // Nothing of the run is left: shim, agent, grandchildren.
  for (const pid of [s.shimPid, s.agentPid, ...s.kids])
    assert.ok(!isAlive(pid), `pid ${pid} is alive`);
  const left = runProcesses(board.home);
  assert.deepEqual(left, [], describeProcs(left));

  const run = await getRun(app.store.db, s.runId);
  assert.equal(run?.state, 'cancelled');
  assert.equal(run?.stop_reason, 'stopped by user');
  const task = await getTask(app.store.db, s.taskId);
  assert.equal(task?.status, 'blocked');
  assert.equal(task?.status_reason, 'stopped by user');
  assert.equal((await runsOfTask(app, s.taskId)).length, 1, 'a stopped run must not be retried');
  return { waited, run };
}

test('stop: SIGTERM-ignoring agent with grandchildren', { timeout: 120_000 }, async (t) => {
  const board = createBoard({ defaults: { max_attempts: 3, stop_grace: `${GRACE_MS}ms` } });
  const app = await board.open();
  let server: ServeProcess | undefined;
  try {
    await t.test('the engine supervises it as its own child', async () => {
      server = await startServe(board.home, { logFile: board.serveLog });
      const s = await startStubborn(app, board);
      const { waited, run } = await stopAndCheck(app, board, s);
      // SIGKILLed with its shim: no exit status, or 137 if one was observed.
      assert.ok(run?.exit_code === null || run?.exit_code === 137, `exit ${run?.exit_code}`);
      t.diagnostic(`own child: SIGKILLed ${waited} ms after SIGTERM`);
    });

    await t.test('re-adopted after a server crash', async () => {
      const s = await startStubborn(app, board);
      await server?.kill('SIGKILL');
      server = await startServe(board.home, { logFile: board.serveLog });
      assert.match(server.stdout, /recovered: 1 re-adopted/);
      const { waited } = await stopAndCheck(app, board, s);
      t.diagnostic(`adopted: SIGKILLed ${waited} ms after SIGTERM`);
    });

    await t.test('no engine running', async () => {
      const s = await startStubborn(app, board);
      // A graceful stop waits for launches in flight and renews leases around
      // that: on a busy machine it can take a few seconds, which is not what this test is about.
      await server?.stop(20_000);
      server = undefined;
      assert.ok(isAlive(s.agentPid), 'a graceful shutdown must leave the agent running');
      const { waited } = await stopAndCheck(app, board, s);
      t.diagnostic(`no engine: SIGKILLed ${waited} ms after SIGTERM`);
    });
  } finally {
    (server as ServeProcess | undefined)?.forceKill();
    killRunProcesses(board.home);
    await app.store.close();
  }
});
