/**
 * Workers on PostgreSQL (issue: beyond one machine), with real
 * `agentboard worker` processes:
 * - enqueue → claim latency across processes: the commit that makes a run
 *   runnable, seen from this process, to the commit of its claim by a worker
 *   (NOTIFY → LISTEN wake-up → claim), observed here through a bench-only
 *   trigger that notifies each claim. Target p99 ≤ 10 ms. Workers idle
 *   between samples (the previous run's end, which wakes every worker for a
 *   claim attempt of its own, has settled);
 * - throughput of trivial runs (`true`) with 1, 2 and 4 workers, the same
 *   board limit (8) in each case;
 * - remote output: a log read on the API host (another AGENTBOARD_HOME, so no
 *   local file) through the chunks the worker ships: line latency (written →
 *   readable there) and bulk throughput.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { type App, openApp } from '../src/app/context.js';
import { enqueueRun, taskPrompt } from '../src/app/queue.js';
import { followRunOutput } from '../src/app/run-output.js';
import { addTask } from '../src/app/tasks.js';
import { getTask } from '../src/store/tasks.js';
import {
  type BenchContext,
  type BenchModule,
  benchConfig,
  latencyRows,
  type Row,
  summarize,
} from './harness.js';

const CLI = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../src/cli/main.js');

interface Board {
  url: string;
  home: string;
  app: App;
}

async function board(
  ctx: BenchContext,
  agents: Record<string, unknown>,
  limit: number,
): Promise<Board> {
  const url = await ctx.postgresUrl();
  const home = ctx.tmpDir('workers');
  const config = {
    agents,
    defaults: { max_attempts: 1 },
    board: { autostart: false, max_concurrency: limit },
  };
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config));
  const app = await openApp({
    config: benchConfig(config),
    cwd: home,
    env: { AGENTBOARD_HOME: home, AGENTBOARD_DATABASE_URL: url },
  });
  ctx.onCleanup(() => app.store.close());
  return { url, home, app };
}

/** Starts `agentboard worker` processes and waits until each is ready. */
async function startWorkers(ctx: BenchContext, b: Board, n: number): Promise<ChildProcess[]> {
  const out: ChildProcess[] = [];
  for (let i = 0; i < n; i++) {
    const child = spawn(process.execPath, [CLI, 'worker'], {
      env: { ...process.env, AGENTBOARD_HOME: b.home, AGENTBOARD_DATABASE_URL: b.url },
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    ctx.onCleanup(() => {
      child.kill('SIGKILL');
    });
    await new Promise<void>((resolve, reject) => {
      let text = '';
      child.stdout?.on('data', (d) => {
        text += d.toString();
        if (text.includes('agentboard engine')) resolve();
      });
      child.once('exit', (c) => reject(new Error(`worker exited ${c}`)));
    });
    out.push(child);
  }
  return out;
}

async function stopWorkers(workers: ChildProcess[]): Promise<void> {
  await Promise.all(
    workers.map(
      (w) =>
        new Promise((resolve) => {
          w.once('exit', resolve);
          w.kill('SIGTERM');
        }),
    ),
  );
}

async function addTasks(app: App, n: number, agent: string): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++)
    ids.push(Number((await addTask(app, { title: `t${i}`, agent })).id.slice(2)));
  return ids;
}

function enqueueAll(app: App, ids: number[], agent: string): Promise<string[]> {
  return app.store.tx(async (tx) => {
    const runIds: string[] = [];
    for (const id of ids) {
      const task = await getTask(tx.db, id);
      if (!task) throw new Error('task vanished');
      runIds.push(
        (await enqueueRun(app, tx, task, { agent, trigger: 'manual', prompt: taskPrompt(task) }))
          .id,
      );
    }
    return runIds;
  });
}

async function waitAllEnded(app: App, count: number): Promise<void> {
  for (;;) {
    const r = await app.store.db
      .selectFrom('runs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('state', 'in', ['succeeded', 'failed', 'lost'])
      .executeTakeFirst();
    if (Number(r?.n) >= count) return;
    await new Promise((res) => setTimeout(res, 20));
  }
}

async function claimLatency(ctx: BenchContext): Promise<Row[]> {
  const n = ctx.quick ? 50 : 300;
  const b = await board(
    ctx,
    { bench: { kind: 'command', command: 'true', max_concurrency: 8 } },
    8,
  );
  // Bench-only: each claim commits a notification this process receives.
  const listener = new pg.Client({ connectionString: b.url });
  await listener.connect();
  ctx.onCleanup(() => listener.end());
  await listener.query(`
    create function bench_claimed() returns trigger language plpgsql as $$
    begin perform pg_notify('bench_claims', new.id); return new; end $$;
    create trigger bench_claimed after update of state on runs
      for each row when (new.state = 'claimed' and old.state = 'queued')
      execute function bench_claimed();
    listen bench_claims;`);
  const claimed = new Map<string, (t: number) => void>();
  const early = new Map<string, number>();
  listener.on('notification', (m) => {
    const t = performance.now();
    const id = m.payload ?? '';
    const cb = claimed.get(id);
    if (cb) cb(t);
    else early.set(id, t);
  });
  const ids = await addTasks(b.app, n + 10, 'bench');
  const workers = await startWorkers(ctx, b, 2);
  const samples: number[] = [];
  for (const [i, id] of ids.entries()) {
    const [runId] = await enqueueAll(b.app, [id], 'bench');
    const committedAt = performance.now();
    const at =
      early.get(runId ?? '') ?? (await new Promise<number>((r) => claimed.set(runId ?? '', r)));
    if (i >= 10) samples.push(at - committedAt); // the first few warm the workers up
    await waitAllEnded(b.app, i + 1);
    await new Promise((r) => setTimeout(r, 25));
  }
  await stopWorkers(workers);
  return latencyRows(
    { benchmark: 'workers.claim', store: 'postgres' },
    'enqueue→claim, 2 worker processes',
    summarize(samples),
    { p99: { max: 10 } },
  );
}

async function throughput(ctx: BenchContext): Promise<Row[]> {
  const count = ctx.quick ? 100 : 600;
  const rows: Row[] = [];
  for (const n of [1, 2, 4]) {
    const b = await board(
      ctx,
      { bench: { kind: 'command', command: 'true', max_concurrency: 8 } },
      8,
    );
    const ids = await addTasks(b.app, count, 'bench');
    const workers = await startWorkers(ctx, b, n);
    const t0 = performance.now();
    await enqueueAll(b.app, ids, 'bench');
    await waitAllEnded(b.app, count);
    const ms = performance.now() - t0;
    await stopWorkers(workers);
    rows.push({
      benchmark: 'workers.throughput',
      store: 'postgres',
      metric: `${n} worker${n > 1 ? 's' : ''} (${count} × true, limit 8)`,
      value: count / (ms / 1000),
      unit: 'runs/s',
      n: count,
    });
  }
  return rows;
}

async function remoteOutput(ctx: BenchContext): Promise<Row[]> {
  const lines = ctx.quick ? 20 : 100;
  const bulkMb = ctx.quick ? 8 : 64;
  const b = await board(
    ctx,
    {
      ticker: {
        kind: 'command',
        command: '/bin/bash',
        args: ['-c', `for i in $(seq ${lines}); do echo "$EPOCHREALTIME"; sleep 0.05; done`],
        max_concurrency: 2,
      },
      bulk: {
        kind: 'command',
        command: '/bin/sh',
        args: ['-c', `head -c ${bulkMb * 1048576} /dev/zero | tr '\\0' x`],
        max_concurrency: 2,
      },
    },
    4,
  );
  // The reader: same database, another home, so the log file is not local.
  const apiHome = ctx.tmpDir('api-host');
  const api = await openApp({
    config: b.app.config,
    cwd: apiHome,
    env: { AGENTBOARD_HOME: apiHome, AGENTBOARD_DATABASE_URL: b.url },
  });
  ctx.onCleanup(() => api.store.close());
  const workers = await startWorkers(ctx, b, 1);

  const [tickTask] = await addTasks(b.app, 1, 'ticker');
  const [tickRun] = await enqueueAll(b.app, [tickTask as number], 'ticker');
  const delays: number[] = [];
  let partial = '';
  await followRunOutput(api, tickRun ?? '', 'stdout', {
    onChunk: (chunk) => {
      const now = Date.now() / 1000;
      partial += chunk.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) delays.push((now - Number(p)) * 1000);
    },
  });

  const [bulkTask] = await addTasks(b.app, 1, 'bulk');
  const t0 = performance.now();
  const [bulkRun] = await enqueueAll(b.app, [bulkTask as number], 'bulk');
  let bytes = 0;
  await followRunOutput(api, bulkRun ?? '', 'stdout', {
    onChunk: (chunk) => {
      bytes += chunk.length;
    },
  });
  const ms = performance.now() - t0;
  await stopWorkers(workers);
  if (bytes !== bulkMb * 1048576) throw new Error(`read ${bytes} bytes of ${bulkMb} MB`);
  return [
    ...latencyRows(
      { benchmark: 'workers.output', store: 'postgres' },
      'line written → readable on the API host',
      summarize(delays),
      { p99: { max: 1000 } },
    ),
    {
      benchmark: 'workers.output',
      store: 'postgres',
      metric: `${bulkMb} MB log, enqueue → fully read on the API host`,
      value: bytes / 1048576 / (ms / 1000),
      unit: 'MB/s',
      n: 1,
    },
  ];
}

const workers: BenchModule = {
  name: 'workers',
  description:
    'PostgreSQL workers: enqueue→claim latency, throughput with 1/2/4 workers, remote output',
  async run(ctx) {
    return [...(await claimLatency(ctx)), ...(await throughput(ctx)), ...(await remoteOutput(ctx))];
  },
};

export default workers;
