/**
 * Fencing: a worker whose lease was taken over cannot write.
 *
 * 1. In the store: after a takeover (a new lease token, as the reconciler
 *    assigns), every write carrying the old token is refused.
 * 2. With real processes: serve A is SIGSTOPped past its lease; serve B takes
 *    the run over (re-adopting the live agent). On SIGCONT, A finds its lease
 *    gone and kills its agent rather than completing the run; only B records
 *    the end.
 * 3. The same, but the agent ends while A is stopped: B records the exit and
 *    A, when it wakes up and reaps its child, writes nothing.
 */
import assert from 'node:assert/strict';
import os from 'node:os';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import SqliteDatabase from 'better-sqlite3';
import type { App } from '../../src/app/context.js';
import { finishRun, type RunEnd } from '../../src/app/finish-run.js';
import { stepRun } from '../../src/domain/run.js';
import { bootId } from '../../src/runner/proc.js';
import { nextValue } from '../../src/store/counters.js';
import { claimNext, getRun, renewLeases, updateRunFenced } from '../../src/store/runs.js';
import { getTask } from '../../src/store/tasks.js';
import { readLedger } from '../fixtures/crash-agent-lib.js';
import { type ServeProcess, startServe } from '../support/server.js';
import {
  addAgentTask,
  createBoard,
  describeProcs,
  isAlive,
  killRunProcesses,
  runProcesses,
  runsOfTask,
  waitFor,
} from './helpers.js';

const LEASE_MS = 1500;

/**
 * SIGSTOPs `server` outside a write transaction. A process stopped inside one
 * (a lease renewal, every third of a lease) holds SQLite's write lock and
 * blocks every other writer, B included, however long it stays stopped: that
 * is SQLite, not the fencing under test. So: stop it, and if the write lock is
 * taken, let it finish and stop it again.
 */
async function stopOutsideWrites(server: ServeProcess, database: string): Promise<void> {
  const probe = new SqliteDatabase(database, { timeout: 0 });
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      server.signal('SIGSTOP');
      try {
        probe.exec('BEGIN IMMEDIATE');
        probe.exec('ROLLBACK');
        return;
      } catch {
        server.signal('SIGCONT');
        await sleep(20);
      }
    }
    throw new Error('server A held the write lock at every one of 100 stops');
  } finally {
    probe.close();
  }
}

const succeeded: RunEnd = {
  state: 'succeeded',
  exitCode: 0,
  exitSignal: null,
  reason: 'exit 0',
  retryable: false,
  stderrTail: '',
  complete: false,
  verified: false,
};

async function finishedEvents(app: App, runId: string): Promise<number> {
  const rows = await app.store.db
    .selectFrom('events')
    .select('id')
    .where('type', '=', 'run.finished')
    .where('run_id', '=', runId)
    .execute();
  return rows.length;
}

test('fencing: a stale lease token cannot write (store)', async () => {
  const board = createBoard();
  const app = await board.open();
  try {
    const taskId = await addAgentTask(app, 'fenced', { steps: [{ ms: 0, exit: 0, bytes: 0 }] });
    const claimed = await app.store.tx((tx) =>
      claimNext(tx, {
        workerId: 'worker-a',
        host: os.hostname(),
        bootId: bootId(),
        leaseMs: LEASE_MS,
        agentLimits: { bot: 8 },
        globalLimit: 8,
      }),
    );
    assert.ok(claimed && claimed.task_id === taskId);
    const stale = claimed.lease_token as number;

    // The takeover, as the reconciler does it: a new token, written fenced by the old one.
    const fresh = await app.store.tx(async (tx) => {
      const t = await nextValue(tx, 'lease');
      assert.ok(
        await updateRunFenced(tx, claimed.id, stale, {
          worker_id: 'worker-b',
          lease_token: t,
          lease_expires_at: tx.now + LEASE_MS,
        }),
      );
      return t;
    });
    assert.notEqual(fresh, stale);

    // Worker A, still holding the old token, can do nothing any more.
    const before = await getRun(app.store.db, claimed.id);
    assert.equal(
      await app.store.tx((tx) =>
        updateRunFenced(tx, claimed.id, stale, {
          state: stepRun('claimed', { type: 'start' }),
          pid: 4242,
        }),
      ),
      false,
    );
    assert.deepEqual(
      await app.store.tx((tx) => renewLeases(tx, [{ id: claimed.id, token: stale }], LEASE_MS)),
      new Set(),
    );
    assert.equal(await finishRun(app, claimed.id, stale, succeeded), false);
    assert.deepEqual(
      await getRun(app.store.db, claimed.id),
      before,
      'a stale write changed the run',
    );
    assert.equal(await finishedEvents(app, claimed.id), 0);

    // Worker B, with the new token, can.
    assert.deepEqual(
      await app.store.tx((tx) => renewLeases(tx, [{ id: claimed.id, token: fresh }], LEASE_MS)),
      new Set([claimed.id]),
    );
    assert.equal(await finishRun(app, claimed.id, fresh, succeeded), true);
    assert.equal((await getRun(app.store.db, claimed.id))?.state, 'succeeded');
    // And once ended, nobody can end it again.
    assert.equal(await finishRun(app, claimed.id, fresh, { ...succeeded, state: 'failed' }), false);
    assert.equal(await finishedEvents(app, claimed.id), 1);
  } finally {
    await app.store.close();
  }
});

/** A fresh board with a short lease; every server started through `serve` is killed afterwards. */
async function withBoard(
  fn: (
    app: App,
    board: ReturnType<typeof createBoard>,
    serve: () => Promise<ServeProcess>,
  ) => Promise<void>,
): Promise<void> {
  const board = createBoard({ defaults: { max_attempts: 1, lease: `${LEASE_MS}ms` } });
  const app = await board.open();
  const servers: ServeProcess[] = [];
  const serve = async () => {
    const s = await startServe(board.home, { logFile: board.serveLog });
    servers.push(s);
    return s;
  };
  try {
    await fn(app, board, serve);
  } finally {
    for (const s of servers) s.forceKill();
    killRunProcesses(board.home);
    await app.store.close();
  }
}

test('fencing: a SIGSTOPped server whose run was taken over', { timeout: 120_000 }, async (t) => {
  await t.test('A wakes up and kills the agent B adopted; only B records the end', () =>
    withBoard(async (app, board, serve) => {
      const a = await serve();
      const taskId = await addAgentTask(app, 'long', {
        steps: [{ ms: 500, exit: 0, bytes: 1000, hang: 'silent' }],
      });
      const run = await waitFor('the run to start under A', async () => {
        const [r] = await runsOfTask(app, taskId);
        return r?.state === 'running' && r.worker_id === a.workerId ? r : undefined;
      });
      const agentPid = await waitFor(
        'the agent',
        () => readLedger(board.ledger).starts.get(run.id)?.[0]?.pid,
      );

      await stopOutsideWrites(a, app.paths.database);
      await sleep(LEASE_MS + 500);
      const b = await serve();
      assert.match(b.stdout, /recovered: 1 re-adopted/);
      const taken = await getRun(app.store.db, run.id);
      assert.equal(taken?.worker_id, b.workerId);
      assert.notEqual(taken?.lease_token, run.lease_token);
      assert.ok(isAlive(agentPid), 'the takeover must not kill the agent');

      a.signal('SIGCONT');
      await waitFor('A to kill its agent', () => !isAlive(agentPid), 10_000);
      await waitFor('A to say why', () =>
        a.stderr.includes(`lost the lease of run ${run.id}: killing its agent`),
      );
      const final = await waitFor(
        'B to record the end',
        async () => {
          const r = await getRun(app.store.db, run.id);
          return r && r.state !== 'running' ? r : undefined;
        },
        15_000,
      );
      // A neither completed the run nor wrote anything: B recorded what it saw
      // (the group was SIGKILLed, so usually no exit status: lost; or 143 if
      // the shim got to write exit.json between A's SIGTERM and SIGKILL).
      assert.ok(['lost', 'failed'].includes(final.state), final.state);
      assert.equal(final.worker_id, b.workerId);
      assert.equal(await finishedEvents(app, run.id), 1);
      assert.equal(readLedger(board.ledger).ends.get(run.id), undefined);
      assert.ok(a.alive && b.alive);
      const left = runProcesses(board.home);
      assert.deepEqual(left, [], describeProcs(left));
      await a.stop();
      await b.stop();
    }),
  );

  await t.test('the agent ends while A is stopped: B records it, A writes nothing', () =>
    withBoard(async (app, _board, serve) => {
      const a = await serve();
      const taskId = await addAgentTask(app, 'short', {
        steps: [{ ms: 4000, exit: 0, bytes: 0 }],
      });
      const run = await waitFor('the run to start under A', async () => {
        const [r] = await runsOfTask(app, taskId);
        return r?.state === 'running' && r.worker_id === a.workerId ? r : undefined;
      });
      await stopOutsideWrites(a, app.paths.database);
      await sleep(LEASE_MS + 500);
      const b = await serve();
      // B adopts the agent, or (a slow start on a loaded machine) finds it already done.
      assert.match(b.stdout, /recovered: (1 re-adopted, 0|0 re-adopted, 1) exits recorded/);
      const final = await waitFor(
        'B to record the exit',
        async () => {
          const r = await getRun(app.store.db, run.id);
          return r && r.state !== 'running' ? r : undefined;
        },
        20_000,
      );
      assert.equal(final.state, 'succeeded');
      assert.equal(final.worker_id, b.workerId);

      // A wakes up, reaps its child (the shim) and tries to finalize with its stale token.
      a.signal('SIGCONT');
      await sleep(3000);
      assert.ok(a.alive, a.output());
      assert.deepEqual(await getRun(app.store.db, run.id), final, 'A overwrote the run');
      assert.equal(await finishedEvents(app, run.id), 1);
      assert.equal((await getTask(app.store.db, taskId))?.status, 'review');
      assert.equal((await runsOfTask(app, taskId)).length, 1);
      await a.stop();
      await b.stop();
    }),
  );
});
