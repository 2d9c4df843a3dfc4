/**
 * Store benchmark, on SQLite and PostgreSQL: how fast tasks go in (one
 * transaction per `addTask`, as the CLI and API do, and a bulk load), and how
 * fast a 100k-task board comes out (what `task list` and the board UI ask).
 */
import { sql } from 'kysely';
import type { App } from '../src/app/context.js';
import { addTask, listTaskViews } from '../src/app/tasks.js';
import { TASK_STATUSES } from '../src/domain/task.js';
import { countTasksByStatus, type TaskFilter } from '../src/store/tasks.js';
import { benchAgents, generateTaskInput, IDLE_AGENT, prng, seedBoard } from './board-fixture.js';
import {
  type BenchContext,
  type BenchModule,
  benchConfig,
  latencyRows,
  type Row,
  STORE_KINDS,
  type StoreKind,
  type Summary,
  sample,
  summarize,
  timed,
} from './harness.js';

/** Proposed targets: a board of 100k cards should still feel instant. */
const TARGETS = {
  addTaskRate: { min: 200 }, // tasks/s, i.e. <= 5 ms per add
  addTaskP99: { max: 25 }, // ms
  board: { max: 100 }, // ms, p99: the whole board (6 columns + counts)
  counts: { max: 50 },
  page: { max: 50 },
  filtered: { max: 100 },
  search: { max: 250 },
} as const;

const PER_COLUMN = 50;
const DEEP_OFFSET = 5000;
/** The board's columns as `task list` shows them (cancelled only with --all). */
const COLUMNS = TASK_STATUSES.filter((s) => s !== 'cancelled');

interface Sizes {
  total: number;
  addTasks: number;
  iterations: number;
  budgetMs: number;
}

const module: BenchModule = {
  name: 'store',
  description: 'task insert rate (addTask, bulk) and 100k-task board listing latency, both stores',
  async run(ctx) {
    const sizes: Sizes = ctx.quick
      ? { total: 5_000, addTasks: 500, iterations: 10, budgetMs: 2_000 }
      : { total: 100_000, addTasks: 5_000, iterations: 50, budgetMs: 6_000 };
    const rows: Row[] = [];
    const byStore = new Map<StoreKind, Measured>();
    for (const kind of STORE_KINDS) {
      const m = await benchStore(ctx, kind, sizes);
      byStore.set(kind, m);
      rows.push(...m.rows);
    }
    // Same run, same machine: the ratio is steadier than either figure.
    const s = byStore.get('sqlite');
    const p = byStore.get('postgres');
    if (s && p) {
      const base = { benchmark: 'store.ratio', store: 'postgres/sqlite' } as const;
      rows.push(
        { ...base, metric: 'addTask rate', value: p.addRate / s.addRate, unit: 'x' },
        { ...base, metric: 'bulk insert rate', value: p.bulkRate / s.bulkRate, unit: 'x' },
        { ...base, metric: 'board p50', value: p.board.p50 / s.board.p50, unit: 'x' },
      );
    }
    return rows;
  },
};
export default module;

interface Measured {
  rows: Row[];
  addRate: number;
  bulkRate: number;
  board: Summary;
}

async function benchStore(ctx: BenchContext, kind: StoreKind, sizes: Sizes): Promise<Measured> {
  const app = await ctx.openApp(kind, { config: benchConfig({ agents: benchAgents() }) });
  const rows: Row[] = [];
  const insert = { benchmark: 'store.insert', store: kind } as const;
  const list = { benchmark: 'store.list', store: kind } as const;

  // 1. Bulk load most of the board: 1000 tasks (and their events) per transaction.
  const bulkCount = sizes.total - sizes.addTasks;
  ctx.log(`${kind}: bulk-loading ${bulkCount} tasks`);
  const bulk = await timed(() => seedBoard(app, { count: bulkCount, batch: 1000 }));
  const bulkRate = bulkCount / (bulk.ms / 1000);
  rows.push({
    ...insert,
    metric: 'bulk insert (1000 tasks/tx)',
    value: bulkRate,
    unit: 'tasks/s',
    n: bulkCount,
  });
  if (kind === 'postgres') {
    // What autovacuum would have done on a board that grew over months.
    await sql`vacuum analyze`.execute(app.store.db);
  }

  // 2. The rest through the application service, one transaction each, one at a time.
  ctx.log(`${kind}: ${sizes.addTasks} x addTask`);
  const rand = prng(7);
  const inputs = Array.from({ length: sizes.addTasks }, (_, i) => generateTaskInput(rand, i));
  const latencies: number[] = [];
  const adds = await timed(async () => {
    for (const input of inputs) {
      const t0 = performance.now();
      await addTask(app, input);
      latencies.push(performance.now() - t0);
    }
  });
  const addRate = sizes.addTasks / (adds.ms / 1000);
  const addLat = summarize(latencies);
  rows.push(
    {
      ...insert,
      metric: `addTask, 1 tx each (board of ${fmtK(bulkCount)}+)`,
      value: addRate,
      unit: 'tasks/s',
      n: sizes.addTasks,
      target: TARGETS.addTaskRate,
    },
    ...latencyRows(insert, 'addTask latency', addLat, { p99: TARGETS.addTaskP99 }),
    { ...insert, metric: 'bulk / addTask rate', value: bulkRate / addRate, unit: 'x' },
  );

  const total = await countAll(app);
  rows.push({ ...list, metric: 'tasks on the board', value: total, unit: 'tasks' });
  rows.push({
    ...list,
    metric: 'database size',
    value: (await dbBytes(app)) / 2 ** 20,
    unit: 'MiB',
  });

  // 3. Reads, on the full board.
  ctx.log(`${kind}: listing ${fmtK(total)} tasks`);
  const opts = { iterations: sizes.iterations, warmup: 3, budgetMs: sizes.budgetMs };
  const board = (filter: TaskFilter) => async () => {
    await Promise.all(
      COLUMNS.map((s) => listTaskViews(app, { ...filter, statuses: [s], limit: PER_COLUMN })),
    );
    await countTasksByStatus(app.store.db);
  };

  const full = await sample(board({}), opts);
  rows.push(
    ...latencyRows(list, `board: ${COLUMNS.length} columns x ${PER_COLUMN} + counts`, full, {
      p99: TARGETS.board,
    }),
  );
  const counts = await sample(() => countTasksByStatus(app.store.db), opts);
  rows.push(...latencyRows(list, 'countTasksByStatus', counts, { p99: TARGETS.counts }));

  const first = await sample(
    () => listTaskViews(app, { statuses: ['done'], limit: PER_COLUMN }),
    opts,
  );
  rows.push(...latencyRows(list, `done column, first ${PER_COLUMN}`, first, { p99: TARGETS.page }));
  const deep = await sample(
    () => listTaskViews(app, { statuses: ['done'], limit: PER_COLUMN, offset: DEEP_OFFSET }),
    opts,
  );
  rows.push(
    ...latencyRows(list, `done column, offset ${DEEP_OFFSET}`, deep, { p99: TARGETS.page }),
    { ...list, metric: 'deep / first page p50', value: deep.p50 / first.p50, unit: 'x' },
  );

  const filters: [string, TaskFilter, { max: number }][] = [
    ['agent=codex', { agent: 'codex' }, TARGETS.filtered],
    ['label=perf', { label: 'perf' }, TARGETS.filtered],
    ['search "memory leak"', { search: 'memory leak' }, TARGETS.search],
    // A filter that matches (almost) nothing scans every column to the end.
    [`agent=${IDLE_AGENT} (no cards)`, { agent: IDLE_AGENT }, TARGETS.filtered],
    ['label=incident (no cards)', { label: 'incident' }, TARGETS.filtered],
  ];
  for (const [name, filter, target] of filters) {
    const s = await sample(board(filter), opts);
    rows.push(...latencyRows(list, `board filtered by ${name}`, s, { p99: target }), {
      ...list,
      metric: `  ${name} / unfiltered p50`,
      value: s.p50 / full.p50,
      unit: 'x',
    });
  }

  // What `task list --agent X` does for its column counts: one grouped count with the filter.
  const matches = Object.values(
    await countTasksByStatus(app.store.db, { agent: 'codex', statuses: [...COLUMNS] }),
  ).reduce((a, b) => a + b, 0);
  const filteredCounts = await sample(
    () => countTasksByStatus(app.store.db, { agent: 'codex', statuses: [...COLUMNS] }),
    { ...opts, iterations: Math.min(opts.iterations, 20) },
  );
  rows.push(
    ...latencyRows(
      list,
      `filtered column counts, as task list --agent does (${fmtK(matches)} matches)`,
      filteredCounts,
      { p99: TARGETS.counts },
    ),
  );

  return { rows, addRate, bulkRate, board: full };
}

async function countAll(app: App): Promise<number> {
  const r = await app.store.db
    .selectFrom('tasks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

async function dbBytes(app: App): Promise<number> {
  if (app.store.dialect.name === 'postgres') {
    const r = await sql<{ n: number }>`select pg_database_size(current_database()) as n`.execute(
      app.store.db,
    );
    return Number(r.rows[0]?.n ?? 0);
  }
  const pages = app.store.sqlite?.pragma('page_count', { simple: true }) as number;
  const size = app.store.sqlite?.pragma('page_size', { simple: true }) as number;
  return pages * size;
}

function fmtK(n: number): string {
  return n >= 1000 ? `${Math.round(n / 1000)}k` : String(n);
}
