/**
 * PostgreSQL restarted while three workers run a workload: the agents keep
 * running, the workers stop claiming, reconnect with backoff, renew their
 * leases and record every end once the database is back. No run is lost,
 * none runs twice.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { addTask } from '../../src/app/tasks.js';
import { listRuns } from '../../src/store/runs.js';
import { waitFor } from '../engine-crash/helpers.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import type { ServeProcess } from '../support/server.js';
import { createWorkerBoard, ledgerAgent, readLedger, startsPerRun } from './helpers.js';

const TASKS = 40;

let pg: TestPostgres;
const workers: ServeProcess[] = [];
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  for (const w of workers) w.forceKill();
  await pg.close();
});

test('PostgreSQL restarted during a workload: no run lost, none run twice', async () => {
  const url = await pg.createDatabase();
  const probe = createWorkerBoard(url, { agents: {} });
  const board = createWorkerBoard(url, {
    agents: { slow: ledgerAgent(probe.ledger, 6, 1) },
    board: { max_concurrency: 6 },
  });
  const app = await board.open();
  try {
    for (let i = 0; i < 3; i++) workers.push(await board.startWorker(['--concurrency', '2']));
    for (let i = 0; i < TASKS; i++) await addTask(app, { title: `t${i}`, agent: 'slow' });
    await waitFor(
      'a few runs done and six running',
      async () => {
        const done = await listRuns(app.store.db, { states: ['succeeded'] });
        const live = await listRuns(app.store.db, { states: ['running'] });
        return done.length >= 6 && live.length === 6;
      },
      60_000,
    );
    await pg.stop();
    // Agents end while the database is away: their ends wait to be recorded.
    await sleep(2500);
    await pg.start();

    await waitFor(
      'every task done',
      async () => {
        const r = await app.store.db
          .selectFrom('tasks')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('status', '=', 'done')
          .executeTakeFirst()
          .catch(() => undefined);
        return Number(r?.n) === TASKS;
      },
      120_000,
      200,
    );
    const runs = await listRuns(app.store.db, {});
    assert.equal(runs.length, TASKS, 'one run per task: none lost and retried');
    assert.deepEqual(
      runs
        .filter((r) => r.state !== 'succeeded')
        .map((r) => `${r.id} ${r.state} ${r.error_summary}`),
      [],
    );
    const starts = startsPerRun(readLedger(probe.ledger));
    assert.equal(starts.size, TASKS);
    assert.ok(
      [...starts.values()].every((n) => n === 1),
      'no run executed twice',
    );
    for (const w of workers) assert.ok(w.alive, `worker ${w.workerId} survived the restart`);
    const warned = workers.map((w) => w.stderr).join('');
    assert.match(warned, /could not record the end of run .*; retrying|dispatch failed/);
  } finally {
    for (const w of workers) await w.stop().catch(() => w.forceKill());
    await app.store.close();
  }
});
