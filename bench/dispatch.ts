/**
 * Dispatch tail (issue 15, item 7): from a run queued through the HTTP API
 * (POST /api/v1/tasks/T-n/runs, timed by the client) to its agent executing
 * its first instruction, over 1,000 samples, with p99.9 and max; beside it a
 * bare loop starting the same two processes the same way, sample for sample
 * in the same run (see dispatch-client.ts).
 *
 * The agent is `/bin/sh -c 'echo "$AGENTBOARD_TASK_ID" >FIFO'`. Its first
 * instruction is a shell builtin writing one line into a FIFO the client
 * already reads, which stamps the arrival: nothing is started, no file is
 * created and no clock is read by the agent (dash has no sub-second clock
 * builtin, and `date` would be a third process). dash is the cheapest program
 * that can do it: the shim already is one (see src/runner/shim.ts).
 *
 * The server is a fresh process running what `serve` runs, stamping every
 * hop (dispatch-server.ts); the per-hop table and the slowest samples, with
 * what else happened meanwhile, are logged and written to
 * bench/results/dispatch-hops.txt.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readApiToken } from '../src/app/api-token.js';
import type { ClientArgs } from './dispatch-client.js';
import {
  BARE_HOPS,
  HOPS,
  hopTable,
  outliers,
  readStamps,
  spanTable,
  type Tail,
  tail,
} from './dispatch-hops.js';
import type { ServerArgs } from './dispatch-server.js';
import type { BenchContext, BenchModule, Row } from './harness.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.resolve(HERE, '../../bench/results');

/** Extra SQLite pragmas for the server, to try a change without shipping it: `DISPATCH_PRAGMAS="a=1;b=2"`. */
const PRAGMAS = (process.env.DISPATCH_PRAGMAS ?? '').split(';').filter((p) => p.trim() !== '');

function startServer(a: ServerArgs): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(
    process.execPath,
    [path.join(HERE, 'dispatch-server.js'), JSON.stringify(a)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^ready (\S+)$/m.exec(out);
      if (m?.[1]) resolve({ child, url: m[1] });
    });
    child.once('exit', (code) =>
      reject(new Error(`the dispatch server exited ${code} before it was ready`)),
    );
  });
}

function runClient(a: ClientArgs): Promise<void> {
  const child = spawn(
    process.execPath,
    [path.join(HERE, 'dispatch-client.js'), JSON.stringify(a)],
    {
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) =>
      code === 0 ? resolve() : reject(new Error(`the dispatch client exited ${code ?? signal}`)),
    );
  });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function tailRows(base: Pick<Row, 'benchmark' | 'store'>, what: string, t: Tail): Row[] {
  const row = (m: string, value: number): Row => ({
    ...base,
    metric: `${what} ${m}`,
    value,
    unit: 'ms',
    n: t.n,
  });
  return [row('p50', t.p50), row('p99', t.p99), row('p99.9', t.p999), row('max', t.max)];
}

async function run(ctx: BenchContext): Promise<Row[]> {
  const samples = ctx.quick ? 100 : 1000;
  const warmup = 20;
  const dir = ctx.tmpDir('dispatch');
  const home = path.join(dir, 'home');
  const fifo = path.join(dir, 'first-instruction.fifo');
  const trace = path.join(dir, 'trace');
  execFileSync('mkfifo', [fifo]);
  const agent = ['/bin/sh', '-c', `echo "$AGENTBOARD_TASK_ID" >${fifo}`];
  const loadBefore = load();
  const server = await startServer({
    home,
    trace,
    tasks: samples + warmup,
    agent,
    pragmas: PRAGMAS,
  });
  ctx.onCleanup(() => stop(server.child));
  ctx.log(
    `dispatch: ${samples} samples of each kind (+${warmup} warm-up), load average ${loadBefore}`,
  );
  try {
    await runClient({
      url: server.url,
      // The owner's token, as the CLI reads it: the server made it at start.
      token: readApiToken(home) ?? '',
      fifo,
      trace,
      tasks: Array.from({ length: samples + warmup }, (_, i) => i + 1),
      warmup,
      agent,
      bareDir: path.join(dir, 'bare'),
      gapMs: 25,
    });
  } finally {
    await stop(server.child);
  }
  // The helpers write their stamps as they exit, just after the server.
  await new Promise((r) => setTimeout(r, 500));
  const loadAfter = load();
  const stamps = readStamps(trace);
  const ab = tail(stamps.agentboard.map((s) => s.ms));
  const bare = tail(stamps.bare.map((s) => s.ms));
  // agentboard's own share: everything before the helper forks the shim (what the bare loop does not do).
  const own = tail(
    stamps.agentboard.flatMap((s) => {
      const [a, b] = [s.at.get('posted'), s.at.get('helper fork')];
      return a !== undefined && b !== undefined ? [(b - a) / 1000] : [];
    }),
  );
  const report = [
    `dispatch: load average before ${loadBefore}, after ${loadAfter}${PRAGMAS.length ? `; pragmas ${PRAGMAS.join('; ')}` : ''}`,
    'agentboard, per hop:',
    hopTable(stamps.agentboard, HOPS),
    'bare loop, per hop:',
    hopTable(stamps.bare, BARE_HOPS),
    'what else ran (server, helpers, client):',
    spanTable(stamps.spans),
    'slowest agentboard samples:',
    outliers(stamps, HOPS, Math.max(5, Math.ceil(samples / 200))),
  ].join('\n');
  ctx.log(report);
  fs.mkdirSync(RESULTS, { recursive: true });
  fs.writeFileSync(path.join(RESULTS, 'dispatch-hops.txt'), `${report}\n`);
  // Every stamp, for a closer look: one JSON object a line (see dispatch-trace.ts).
  const raw = fs.readdirSync(dir).filter((n) => n.startsWith('trace.'));
  fs.writeFileSync(
    path.join(RESULTS, 'dispatch-stamps.jsonl'),
    raw.map((n) => fs.readFileSync(path.join(dir, n), 'utf8')).join(''),
  );

  const base = { benchmark: 'dispatch', store: 'sqlite' as const };
  const note = `load average before ${loadBefore}, after ${loadAfter}`;
  return [
    ...tailRows(base, 'POST → agent', ab).map((r) => ({ ...r, note })),
    ...tailRows({ benchmark: 'dispatch', store: '' }, 'bare shim+agent', bare).map((r) => ({
      ...r,
      note,
    })),
    {
      ...base,
      metric: 'POST → agent p99.9 / p50',
      value: ab.p999 / ab.p50,
      unit: '×',
      n: ab.n,
      target: { max: 3 },
      note,
    },
    {
      ...base,
      metric: 'POST → agent p50 / bare p50',
      value: ab.p50 / bare.p50,
      unit: '×',
      n: ab.n,
      note,
    },
    ...tailRows(base, 'own share (POST → helper forks)', own).map((r) => ({ ...r, note })),
    {
      ...base,
      metric: 'own share p99.9 / p50',
      value: own.p999 / own.p50,
      unit: '×',
      n: own.n,
      note,
    },
    { ...base, metric: 'load average (1 min) after', value: os.loadavg()[0] ?? 0, unit: '', note },
  ];
}

const dispatch: BenchModule = {
  name: 'dispatch',
  description:
    'HTTP enqueue → agent first instruction: p50/p99/p99.9/max beside a bare spawn loop, per hop',
  run,
};

export default dispatch;
