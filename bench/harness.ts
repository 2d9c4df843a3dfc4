/**
 * The benchmark harness's contract and shared helpers. A benchmark module is
 * a file under bench/ that default-exports a `BenchModule`; `run.ts` keeps the
 * registry (a plain list) and prints every module's rows as one table.
 *
 * Modules import only from here (and from src/), never from run.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type App, openApp } from '../src/app/context.js';
import { type Config, configSchema } from '../src/config/schema.js';
import { startPostgres, type TestPostgres } from '../test/support/postgres.js';

export type StoreKind = 'sqlite' | 'postgres';
export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'postgres'];

/** What a row is judged against: a ceiling (latencies) or a floor (rates). */
export type Target = { max: number } | { min: number };

/** One measured figure. The harness adds `verdict` from `target`. */
export interface Row {
  /** The module's name, or a sub-benchmark of it ("store", "store.list"). */
  benchmark: string;
  /** "sqlite", "postgres", or "" when the figure is not about one store. */
  store: StoreKind | 'postgres/sqlite' | '';
  metric: string;
  value: number;
  unit: string;
  /** How many samples or operations the figure is made of. */
  n?: number;
  target?: Target;
  /** Free text kept in the JSON output (not printed in the table). */
  note?: string;
}

export type Verdict = 'ok' | 'MISS' | '';
export interface ResultRow extends Row {
  verdict: Verdict;
}

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  totalMemBytes: number;
  freeMemBytes: number;
  node: string;
  platform: string;
  loadavg: number[];
}

export interface BenchContext {
  machine: MachineInfo;
  /** Set by `--quick`: modules should scale their sizes down (a smoke run, not figures). */
  quick: boolean;
  /** Progress to stderr; stdout is kept for the table. */
  log(message: string): void;
  /** A fresh directory, removed when the run ends. */
  tmpDir(prefix: string): string;
  /** A fresh, empty PostgreSQL database; the embedded server is started once and shared. */
  postgresUrl(): Promise<string>;
  /**
   * A fresh board on the given store (autostart off unless `config` says
   * otherwise), closed when the run ends.
   */
  openApp(store: StoreKind, opts?: { config?: Config }): Promise<App>;
  /** Registers work to do when the run ends (after every module), last registered first. */
  onCleanup(fn: () => Promise<void> | void): void;
}

export interface BenchModule {
  /** What is typed on the command line to select it: `node dist/bench/run.js store`. */
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Row[]>;
}

/** The config the benchmarks use: nothing starts by itself. */
export function benchConfig(extra: Record<string, unknown> = {}): Config {
  return configSchema.parse({ ...extra, board: { autostart: false } });
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    totalMemBytes: os.totalmem(),
    freeMemBytes: os.freemem(),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadavg: os.loadavg(),
  };
}

export interface Harness {
  ctx: BenchContext;
  /** Runs the cleanups; safe to call more than once. */
  close(): Promise<void>;
}

export function createContext(opts: { quick: boolean }): Harness {
  const cleanups: (() => Promise<void> | void)[] = [];
  let pg: Promise<TestPostgres> | null = null;
  const ctx: BenchContext = {
    machine: machineInfo(),
    quick: opts.quick,
    log: (m) => process.stderr.write(`[bench] ${m}\n`),
    tmpDir(prefix) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), `agentboard-bench-${prefix}-`));
      cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
      return dir;
    },
    async postgresUrl() {
      if (!pg) {
        ctx.log('starting embedded PostgreSQL');
        pg = startPostgres();
        const started = pg;
        cleanups.push(async () => (await started).close());
      }
      return (await pg).createDatabase();
    },
    async openApp(store, o = {}) {
      const home = ctx.tmpDir(store);
      const url = store === 'postgres' ? await ctx.postgresUrl() : undefined;
      const app = await openApp({
        config: o.config ?? benchConfig(),
        cwd: home,
        env: { AGENTBOARD_HOME: home, ...(url ? { AGENTBOARD_DATABASE_URL: url } : {}) },
      });
      cleanups.push(() => app.store.close());
      return app;
    },
    onCleanup(fn) {
      cleanups.push(fn);
    },
  };
  let closing: Promise<void> | null = null;
  return {
    ctx,
    close() {
      closing ??= (async () => {
        for (const fn of cleanups.reverse()) {
          try {
            await fn();
          } catch (e) {
            ctx.log(`cleanup failed: ${(e as Error).message}`);
          }
        }
      })();
      return closing;
    },
  };
}

// ---------------------------------------------------------------------------
// Measuring

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  mean: number;
  min: number;
  max: number;
}

/** Nearest-rank percentile (with 50 samples, p99 is the slowest one). */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  // Rounded first: 99.9% of 1,000 is 999.0000000000001 in floating point, whose ceiling is the max.
  const rank = Math.ceil(Number(((p / 100) * sorted.length).toFixed(9)));
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
    min: sorted[0] ?? Number.NaN,
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/**
 * Times `fn` `iterations` times (after `warmup` untimed calls), in ms. Stops
 * early once `budgetMs` has been spent and at least `minIterations` are in, so
 * a pathological query cannot eat the whole run; the summary's `n` says how
 * many samples there are.
 */
export async function sample(
  fn: () => Promise<unknown>,
  opts: { iterations: number; warmup?: number; budgetMs?: number; minIterations?: number },
): Promise<Summary> {
  for (let i = 0; i < (opts.warmup ?? 3); i++) await fn();
  const samples: number[] = [];
  const started = performance.now();
  for (let i = 0; i < opts.iterations; i++) {
    const t0 = performance.now();
    await fn();
    samples.push(performance.now() - t0);
    const spent = performance.now() - started;
    if (opts.budgetMs !== undefined && spent > opts.budgetMs) {
      if (samples.length >= (opts.minIterations ?? 10)) break;
    }
  }
  return summarize(samples);
}

/** Wall time of `fn`, in ms. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const t0 = performance.now();
  const result = await fn();
  return { ms: performance.now() - t0, result };
}

/** p50 and p99 rows for one latency summary. */
export function latencyRows(
  base: Pick<Row, 'benchmark' | 'store'>,
  metric: string,
  s: Summary,
  targets: { p50?: Target; p99?: Target } = {},
): Row[] {
  return [
    { ...base, metric: `${metric} p50`, value: s.p50, unit: 'ms', n: s.n, target: targets.p50 },
    {
      ...base,
      metric: `${metric} p99`,
      value: s.p99,
      unit: 'ms',
      n: s.n,
      target: targets.p99,
      note: `min ${s.min.toFixed(2)} ms, mean ${s.mean.toFixed(2)} ms, max ${s.max.toFixed(2)} ms`,
    },
  ];
}

export function verdictOf(row: Row): Verdict {
  if (!row.target || !Number.isFinite(row.value)) return '';
  if ('max' in row.target) return row.value <= row.target.max ? 'ok' : 'MISS';
  return row.value >= row.target.min ? 'ok' : 'MISS';
}
