/**
 * The narrow windows of a launch, each replayed deterministically: the
 * server dies (a) after claiming a run but before spawning it, (b) after
 * spawning the agent but before recording its pid, with the agent still
 * running at restart, (c) the same with the agent already done. The claim
 * and the spawn are the engine's own (claimNext, spawnSupervised with the
 * launcher's environment); only the crash is simulated, by a worker row
 * whose process is gone.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import type { App } from '../../src/app/context.js';
import { runDir } from '../../src/config/home.js';
import { bootId } from '../../src/runner/proc.js';
import { spawnSupervised } from '../../src/runner/supervisor.js';
import { claimNext, getRun, type RunRow } from '../../src/store/runs.js';
import { getTask } from '../../src/store/tasks.js';
import { upsertWorker } from '../../src/store/workers.js';
import {
  type AgentPlan,
  ENABLE_ENV,
  LEDGER_ENV,
  readLedger,
  STATE_ENV,
} from '../fixtures/crash-agent-lib.js';
import { boardEnv, type ServeProcess, startServe } from '../support/server.js';
import {
  AGENT_SCRIPT,
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

const GHOST = 'ghost-worker';

/** A worker of this host whose process is gone: what a SIGKILLed server leaves. */
async function deadWorker(app: App): Promise<void> {
  await app.store.tx((tx) =>
    upsertWorker(tx, {
      id: GHOST,
      host: os.hostname(),
      boot_id: bootId(),
      pid: 4_194_303,
      proc_start_time: 1,
      labels: '["bot"]',
      started_at: tx.now,
    }),
  );
}

/** The dead worker claims the task's queued run, as the dispatcher does. */
async function claimAsDeadWorker(app: App, taskId: number): Promise<RunRow> {
  await deadWorker(app);
  const run = await app.store.tx((tx) =>
    claimNext(tx, {
      workerId: GHOST,
      host: os.hostname(),
      bootId: bootId(),
      leaseMs: 60_000,
      agentLimits: { bot: 8 },
      globalLimit: 8,
    }),
  );
  assert.ok(run && run.task_id === taskId && run.state === 'claimed');
  return run;
}

/** Spawns the agent exactly as launchRun does, then "crashes": nothing is recorded. */
function spawnAsLauncher(app: App, board: Board, run: RunRow): number {
  const dir = runDir(app.paths, run.id);
  fs.mkdirSync(dir, { recursive: true });
  const promptFile = path.join(dir, 'prompt.md');
  fs.writeFileSync(promptFile, run.prompt);
  const env = boardEnv(board.home, {
    [ENABLE_ENV]: '1',
    [LEDGER_ENV]: board.ledger,
    [STATE_ENV]: board.stateDir,
    AGENTBOARD_TASK_ID: `T-${run.task_id}`,
    AGENTBOARD_RUN_ID: run.id,
    AGENTBOARD_PARENT_RUN_ID: '',
    AGENTBOARD_AGENT: 'bot',
  }) as Record<string, string>;
  const spawned = spawnSupervised({
    runDir: dir,
    argv: [process.execPath, AGENT_SCRIPT],
    env,
    cwd: app.workdir,
    stdinFile: promptFile,
  });
  return spawned.pid;
}

const plan = (ms: number, exit: number): AgentPlan => ({
  steps: [{ ms, exit, bytes: 10_000, kids: [{ ms: 600_000 }] }],
});

test('crash windows of a launch', { timeout: 120_000 }, async (t) => {
  const board = createBoard({
    defaults: { max_attempts: 1, backoff: { base: '100ms', jitter: 0 } },
  });
  const app = await board.open();
  let server: ServeProcess | undefined;
  // Every server started, so a failed subtest cannot leak one (it would keep this process alive).
  const started: ServeProcess[] = [];
  const serve = async () => {
    const s = await startServe(board.home, { logFile: board.serveLog });
    started.push(s);
    return s;
  };
  try {
    await t.test(
      'claimed, never spawned: handed back to the queue uncharged, then run',
      async () => {
        const taskId = await addAgentTask(
          app,
          'never spawned',
          { steps: [{ ms: 200, exit: 0, bytes: 500 }] },
          { maxAttempts: 2 },
        );
        const run = await claimAsDeadWorker(app, taskId);
        const claimedAt = Date.now();
        server = await serve();
        // Within the spawn grace (3 s) the claim is too fresh to judge: the shim may be about
        // to write its pid. A server that took longer to start (a loaded machine) may judge it.
        if (Date.now() - claimedAt < 2500) {
          assert.equal((await getRun(app.store.db, run.id))?.state, 'claimed');
        }
        const runs = await waitFor(
          'the run to succeed',
          async () => {
            const rs = await runsOfTask(app, taskId);
            return rs[0]?.state === 'succeeded' ? rs : undefined;
          },
          30_000,
        );
        assert.deepEqual(
          runs.map((r) => [r.id, r.attempt, r.state]),
          [[run.id, 1, 'succeeded']],
          'the same run, attempt 1: nothing charged for the claim that never started',
        );
        const ledger = readLedger(board.ledger);
        assert.equal(ledger.starts.get(run.id)?.length, 1, 'its agent ran once, after the restart');
        assert.equal((await getTask(app.store.db, taskId))?.status, 'review');
        await server.stop();
        server = undefined;
      },
    );

    await t.test('spawned, pid not recorded, agent alive at restart: adopted', async () => {
      // Long enough to outlive a server start on a loaded machine (the whole suite runs 4 files at once).
      const taskId = await addAgentTask(app, 'spawned, running', plan(8000, 4));
      const run = await claimAsDeadWorker(app, taskId);
      const shimPid = spawnAsLauncher(app, board, run);
      const kid = await waitFor(
        'the grandchild',
        () => readLedger(board.ledger).kids.get(run.id)?.[0],
      );
      server = await serve();
      assert.match(server.stdout, /recovered: 1 re-adopted, 0 exits recorded, 0 lost/);
      const adopted = await getRun(app.store.db, run.id);
      assert.equal(adopted?.state, 'running');
      assert.equal(adopted?.pid, shimPid);
      const final = await waitFor(
        'the exit to be recorded',
        async () => {
          const r = await getRun(app.store.db, run.id);
          return r?.state === 'failed' ? r : undefined;
        },
        20_000,
      );
      assert.equal(final.exit_code, 4);
      await waitFor('the grandchild to be cleaned up', () => !isAlive(kid), 3000);
      assert.equal(readLedger(board.ledger).starts.get(run.id)?.length, 1);
      assert.equal((await getTask(app.store.db, taskId))?.status, 'blocked');
      await server.stop();
      server = undefined;
    });

    await t.test(
      'spawned, pid not recorded, agent done before restart: exit recorded',
      async () => {
        const taskId = await addAgentTask(app, 'spawned, done', plan(300, 0));
        const run = await claimAsDeadWorker(app, taskId);
        const shimPid = spawnAsLauncher(app, board, run);
        const dir = runDir(app.paths, run.id);
        await waitFor(
          'the agent to finish',
          () => fs.existsSync(path.join(dir, 'exit.json')),
          20_000,
        );
        await waitFor('the shim to exit', () => !isAlive(shimPid));
        const kid = readLedger(board.ledger).kids.get(run.id)?.[0] as number;
        assert.ok(isAlive(kid), 'the grandchild outlives the agent');

        server = await serve();
        assert.match(server.stdout, /recovered: 0 re-adopted, 1 exits recorded, 0 lost/);
        const final = await getRun(app.store.db, run.id);
        assert.equal(final?.state, 'succeeded');
        assert.equal(final?.exit_code, 0);
        assert.equal(final?.pid, shimPid, 'the run never got its process identity');
        await waitFor("the dead agent's grandchild to be cleaned up", () => !isAlive(kid), 3000);
        assert.equal((await getTask(app.store.db, taskId))?.status, 'review');
      },
    );

    const left = runProcesses(board.home);
    assert.deepEqual(left, [], describeProcs(left));
  } finally {
    for (const s of started) s.forceKill();
    killRunProcesses(board.home);
    await app.store.close();
  }
});
