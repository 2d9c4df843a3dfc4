/**
 * Three `agentboard worker` processes on one PostgreSQL, 2,000 trivial tasks
 * enqueued while they run: every task is executed exactly once, each by a
 * worker whose labels allow its agent, and the global and per-agent limits
 * hold at every instant (checked on the agents' own ledger of start and end
 * times: a process lives inside its run's claimed..finished window).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { listWorkers } from '../../src/app/workers.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import type { ServeProcess } from '../support/server.js';
import {
  createWorkerBoard,
  ledgerAgent,
  peakConcurrency,
  readLedger,
  startsPerRun,
} from './helpers.js';

const TASKS = 2000;
const LIMITS = { alpha: 2, beta: 3 };
const GLOBAL = 3;

let pg: TestPostgres;
const workers: ServeProcess[] = [];
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  for (const w of workers) w.forceKill();
  await pg.close();
});

test('3 workers, 2,000 trivial tasks: each executed exactly once, limits held at every instant', async () => {
  const started = Date.now();
  const url = await pg.createDatabase();
  const probe = createWorkerBoard(url, { agents: {} });
  const board = createWorkerBoard(url, {
    agents: {
      alpha: ledgerAgent(probe.ledger, LIMITS.alpha),
      beta: ledgerAgent(probe.ledger, LIMITS.beta),
    },
    board: { max_concurrency: GLOBAL },
  });
  const app = await board.open();
  try {
    // Most of the backlog first (so the limits are under pressure), the rest
    // while the workers drain it (claims racing enqueues).
    const add = (i: number) =>
      addTask(app, { title: `t${i}`, agent: i % 2 === 0 ? 'alpha' : 'beta' });
    const early = Math.floor(TASKS * 0.75);
    for (let i = 0; i < early; i++) await add(i);
    const enqueuedMs = Date.now() - started;
    workers.push(await board.startWorker(['--labels', 'alpha,beta', '--concurrency', '3']));
    workers.push(await board.startWorker(['--labels', 'alpha', '--concurrency', '2']));
    workers.push(await board.startWorker(['--labels', 'beta', '--concurrency', '3']));
    const running = Date.now();
    for (let i = early; i < TASKS; i++) await add(i);

    const seen = await listWorkers(app);
    assert.equal(seen.filter((w) => w.alive).length, 3, 'the three workers are listed alive');
    assert.deepEqual(seen.map((w) => w.labels.join(',')).sort(), ['alpha', 'alpha,beta', 'beta']);

    const deadline = Date.now() + 600_000;
    for (;;) {
      const r = await app.store.db
        .selectFrom('tasks')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', '=', 'done')
        .executeTakeFirst();
      if (Number(r?.n) === TASKS) break;
      assert.ok(Date.now() < deadline, `only ${r?.n} of ${TASKS} tasks done after 10 minutes`);
      await new Promise((res) => setTimeout(res, 250));
    }

    const runs = await app.store.db
      .selectFrom('runs')
      .select(['id', 'state', 'task_id', 'agent', 'worker_id'])
      .execute();
    assert.equal(runs.length, TASKS, 'one run per task: nothing retried, nothing claimed twice');
    assert.ok(runs.every((r) => r.state === 'succeeded'));
    assert.equal(new Set(runs.map((r) => Number(r.task_id))).size, TASKS);

    const labelsOf = new Map(
      (await app.store.db.selectFrom('workers').select(['id', 'labels']).execute()).map((w) => [
        w.id,
        JSON.parse(w.labels) as string[],
      ]),
    );
    for (const r of runs)
      assert.ok(
        labelsOf.get(r.worker_id ?? '')?.includes(r.agent),
        `run ${r.id} ran on a worker without label ${r.agent}`,
      );
    const perWorker = new Map<string, number>();
    for (const r of runs)
      perWorker.set(r.worker_id ?? '', (perWorker.get(r.worker_id ?? '') ?? 0) + 1);
    assert.equal(perWorker.size, 3, 'every worker took part');

    const ledger = readLedger(probe.ledger);
    const starts = startsPerRun(ledger);
    assert.equal(starts.size, TASKS, 'every run executed');
    assert.ok(
      [...starts.values()].every((n) => n === 1),
      'no run executed twice',
    );
    assert.equal(ledger.length, TASKS * 2, 'every execution ended');
    const peak = peakConcurrency(ledger);
    assert.ok(peak.total <= GLOBAL, `global limit ${GLOBAL} exceeded: ${peak.total} at once`);
    for (const [agent, limit] of Object.entries(LIMITS)) {
      const p = peak.byAgent.get(agent) ?? 0;
      assert.ok(p <= limit, `${agent} limit ${limit} exceeded: ${p} at once`);
    }
    process.stderr.write(
      `[workers] ${TASKS} tasks: ${early} enqueued in ${enqueuedMs} ms, all run in ${Date.now() - running} ms; per worker ${JSON.stringify([...perWorker.values()])}; peak ${peak.total} (${JSON.stringify([...peak.byAgent])})\n`,
    );
  } finally {
    for (const w of workers) await w.stop().catch(() => w.forceKill());
    await app.store.close();
  }
});
