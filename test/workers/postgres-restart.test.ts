/**
 * PostgreSQL restarted while three workers run a workload: the agents keep
 * running, the workers stop claiming, reconnect with backoff, renew their
 * leases and record every end once the database is back. No run is lost,
 * none runs twice.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
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
    for (const w of workers)
      assert.ok(w.alive, `worker ${w.workerId} died in the restart:\n${w.stderr.slice(-3000)}`);
    const warned = workers.map((w) => w.stderr).join('');
    assert.match(warned, /could not record the end of run .*; retrying|dispatch failed/);
  } finally {
    for (const w of workers) await w.stop().catch(() => w.forceKill());
    await app.store.close();
  }
});

test('the database away longer than the lease: workers give their runs up, nothing runs twice', async () => {
  const url = await pg.createDatabase();
  const probe = createWorkerBoard(url, { agents: {} });
  const mark = `${probe.ledger}.first`;
  // The first attempt of each task outlives the outage; the retry ends at once.
  const line = (sign: string) =>
    `echo "${sign} $EPOCHREALTIME $AGENTBOARD_AGENT $AGENTBOARD_RUN_ID" >> "${probe.ledger}"`;
  const board = createWorkerBoard(url, {
    agents: {
      slow: {
        kind: 'command',
        command: '/bin/bash',
        args: [
          '-c',
          `${line('+')}; if [ ! -e "${mark}.$AGENTBOARD_TASK_ID" ]; then touch "${mark}.$AGENTBOARD_TASK_ID"; sleep 30; fi; ${line('-')}`,
        ],
        max_concurrency: 4,
      },
    },
    defaults: {
      lease: '4s',
      max_attempts: 2,
      backoff: { base: '100ms', factor: 2, max: '1s', jitter: 0 },
    },
    board: { max_concurrency: 4 },
  });
  const app = await board.open();
  const mine: ServeProcess[] = [];
  try {
    for (let i = 0; i < 2; i++) mine.push(await board.startWorker(['--concurrency', '2']));
    workers.push(...mine);
    for (let i = 0; i < 4; i++) await addTask(app, { title: `t${i}`, agent: 'slow' });
    await waitFor(
      'four agents running',
      async () => (await listRuns(app.store.db, { states: ['running'] })).length === 4,
      30_000,
    );
    await pg.stop();
    await sleep(8000);
    // Given up before the lease ran out: by the worker itself when its renewal
    // fails in time, else by its watchdog (a renewal hanging on the dead
    // connection never fails in time).
    const watchdogLog = fs.existsSync(`${board.home}/watchdog.log`)
      ? fs.readFileSync(`${board.home}/watchdog.log`, 'utf8')
      : '';
    for (const w of mine)
      assert.ok(
        /database unreachable\); giving it up/.test(w.stderr) ||
          watchdogLog.includes(`watchdog ${w.workerId}: killed run`),
        `the worker gave its runs up:\n${w.stderr.slice(-2000)}\n${watchdogLog}`,
      );
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
        return Number(r?.n) === 4;
      },
      60_000,
      200,
    );
    const runs = await listRuns(app.store.db, { order: 'asc' });
    const first = runs.filter((r) => r.attempt === 1);
    assert.equal(first.length, 4);
    for (const r of first)
      assert.ok(['lost', 'failed'].includes(r.state), `run ${r.id} given up: ${r.state}`);
    assert.equal(runs.filter((r) => r.attempt === 2 && r.state === 'succeeded').length, 4);
    // Given up before the lease ran out: the retry never overlapped its agent.
    const ledger = readLedger(probe.ledger);
    const ends = new Map(ledger.filter((e) => e.sign === '-').map((e) => [e.run, e.t]));
    const startOf = new Map(ledger.filter((e) => e.sign === '+').map((e) => [e.run, e.t]));
    for (const r of first) assert.equal(ends.get(r.id), undefined, 'the first attempt was killed');
    for (const r of runs.filter((x) => x.attempt === 2)) {
      const prev = first.find((p) => p.task_id === r.task_id);
      assert.ok(prev && (prev.ended_at ?? 0) / 1000 <= (startOf.get(r.id) ?? 0));
    }
  } finally {
    for (const w of mine) await w.stop().catch(() => w.forceKill());
    await app.store.close();
  }
});
