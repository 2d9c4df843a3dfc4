/**
 * Engine benchmarks (issue: supervised execution):
 * - dispatch latency: from the commit that makes a run runnable to the agent
 *   executing its first instruction (it writes its run id into a FIFO we read);
 * - throughput: 2,000 trivial runs (`true`) at concurrency 8, as a share of a
 *   bare Node `spawn` loop at the same concurrency, measured in the same run;
 * - recovery: SIGKILL a server supervising 100 live agents, restart it, and time
 *   until all 100 are re-adopted.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type App, openApp } from '../src/app/context.js';
import { enqueueRun, taskPrompt } from '../src/app/queue.js';
import { addTask } from '../src/app/tasks.js';
import type { Config } from '../src/config/schema.js';
import { type Engine, startEngine } from '../src/engine/engine.js';
import { type EventRecord, readEvents } from '../src/store/events.js';
import { listRuns } from '../src/store/runs.js';
import { getTask } from '../src/store/tasks.js';
import {
  type BenchContext,
  type BenchModule,
  benchConfig,
  latencyRows,
  type Row,
  summarize,
} from './harness.js';

const quiet = { info: () => {}, warn: () => {} };

function agentConfig(command: string, args: string[], concurrency: number) {
  return benchConfig({
    agents: { bench: { kind: 'command', command, args, max_concurrency: concurrency } },
    defaults: { max_attempts: 1 },
  });
}

/** A FIFO the agents write their run id into; resolves each id's arrival time. */
function openFifo(dir: string) {
  const file = path.join(dir, 'arrivals.fifo');
  fs.rmSync(file, { force: true });
  spawn('mkfifo', [file]).once('exit', () => {});
  const waitFor = new Map<string, (t: number) => void>();
  const early = new Map<string, number>();
  return {
    file,
    async open(): Promise<void> {
      while (!fs.existsSync(file)) await new Promise((r) => setTimeout(r, 5));
      const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      // Our own writer keeps the pipe from reporting EOF between agents.
      const keep = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
      const sock = new net.Socket({ fd, readable: true, writable: false });
      let buf = '';
      sock.on('data', (d) => {
        const t = performance.now();
        buf += d.toString();
        let nl = buf.indexOf('\n');
        while (nl !== -1) {
          const id = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const cb = waitFor.get(id);
          if (cb) cb(t);
          else early.set(id, t);
          nl = buf.indexOf('\n');
        }
      });
      this.close = () => {
        sock.destroy();
        fs.closeSync(keep);
      };
    },
    arrival(id: string): Promise<number> {
      const t = early.get(id);
      if (t !== undefined) return Promise.resolve(t);
      return new Promise((resolve) => waitFor.set(id, resolve));
    },
    close: () => {},
  };
}

async function waitTerminal(app: App, taskIds: number[]): Promise<void> {
  for (;;) {
    let open = 0;
    for (const id of taskIds)
      if ((await getTask(app.store.db, id))?.status === 'in_progress') open++;
    if (open === 0) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function dispatchLatency(ctx: BenchContext): Promise<Row[]> {
  const dir = ctx.tmpDir('dispatch');
  const fifo = openFifo(dir);
  // The agent's first instruction: echo its run id into the FIFO (a shell builtin).
  const app = await ctx.openApp('sqlite', {
    config: agentConfig(
      '/bin/sh',
      ['-c', `echo "$AGENTBOARD_RUN_ID" > ${fifo.file}; sleep "\${HOLD:-0}"`],
      8,
    ),
  });
  await fifo.open();
  const engine = await startEngine(app, { log: quiet });
  const committed = new Map<string, number>();
  const onEvents = (events: EventRecord[]) => {
    const t = performance.now();
    for (const e of events) if (e.type === 'run.queued' && e.runId) committed.set(e.runId, t);
  };
  app.store.changes.on('events', onEvents);
  const n = ctx.quick ? 30 : 300;
  const tasks = [];
  for (let i = 0; i < n * 2 + 8; i++)
    tasks.push((await addTask(app, { title: `t${i}`, agent: 'bench' })).id);
  const ids = tasks.map((t) => Number(t.slice(2)));

  const measure = async (taskId: number): Promise<number> => {
    const runId = await app.store.tx(async (tx) => {
      const task = await getTask(tx.db, taskId);
      if (!task) throw new Error('task vanished');
      return (
        await enqueueRun(app, tx, task, {
          agent: 'bench',
          trigger: 'manual',
          prompt: taskPrompt(task),
        })
      ).id;
    });
    const arrived = await fifo.arrival(runId);
    return arrived - (committed.get(runId) ?? arrived);
  };

  const idle: number[] = [];
  for (let i = 0; i < n; i++) {
    idle.push(await measure(ids[i] as number));
    await waitTerminal(app, [ids[i] as number]);
  }
  // Under load: 4 long-running agents occupy slots while the probes keep coming.
  const loaded: number[] = [];
  process.env.HOLD = '30';
  const holders = ids.slice(n * 2, n * 2 + 4);
  for (const h of holders) await measure(h);
  process.env.HOLD = '0';
  for (let i = n; i < n * 2; i += 2) {
    const pair = [ids[i] as number, ids[i + 1] as number];
    loaded.push(...(await Promise.all(pair.map(measure))));
    await waitTerminal(app, pair);
  }
  app.store.changes.off('events', onEvents);
  await stopAll(app, engine);
  fifo.close();
  const base = { benchmark: 'engine.dispatch', store: 'sqlite' as const };
  return [
    ...latencyRows(base, 'commit→agent idle', summarize(idle), { p99: { max: 5 } }),
    ...latencyRows(base, 'commit→agent under load', summarize(loaded), { p99: { max: 5 } }),
  ];
}

async function stopAll(app: App, engine: Engine): Promise<void> {
  await engine.stop();
  spawn('pkill', ['-KILL', '-f', app.paths.home]).once('error', () => {});
}

/** CPU time of a process (own, and of its reaped children) in ms, from /proc/<pid>/stat. */
function procCpuMs(pid: number): { own: number; children: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
    // utime, stime, cutime, cstime are fields 14-17, in ticks of 10 ms (CLK_TCK 100 on Linux).
    return {
      own: ((f[11] ?? 0) + (f[12] ?? 0)) * 10,
      children: ((f[13] ?? 0) + (f[14] ?? 0)) * 10,
    };
  } catch {
    return null;
  }
}

/** The spawner helpers this process forked (see src/runner/spawner.ts). */
function spawnerHelpers(): number[] {
  const pids: number[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid !== process.pid) continue;
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').includes('spawner-process'))
        pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

interface LoopResult {
  ms: number;
  /** CPU of every process involved, per run, in ms. */
  cpuPerRun: number;
}

/**
 * The bare loop runs in a fresh, small Node process: fork cost grows with the
 * parent's memory, and this bench process has just held 100k-task boards, so
 * running it here would flatter agentboard (whose spawns come from small
 * helper processes too).
 */
function bareSpawnLoop(count: number, concurrency: number): Promise<LoopResult> {
  const script = `
    const { spawn } = require('node:child_process');
    const fs = require('node:fs');
    const t0 = performance.now();
    let started = 0, done = 0;
    const next = () => {
      if (started >= ${count}) return;
      started++;
      spawn('true', [], { stdio: 'ignore' }).once('exit', () => {
        if (++done === ${count}) {
          const ms = performance.now() - t0;
          const f = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ').map(Number);
          process.stdout.write(JSON.stringify({ ms, cpuMs: (f[11] + f[12] + f[13] + f[14]) * 10 }));
        } else next();
      });
    };
    for (let i = 0; i < ${concurrency}; i++) next();`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d.toString();
    });
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`bare loop exited ${code}`));
      const r = JSON.parse(out) as { ms: number; cpuMs: number };
      resolve({ ms: r.ms, cpuPerRun: r.cpuMs / count });
    });
  });
}

interface EngineLoopResult extends LoopResult {
  engineCpuPerRun: number;
  helpersCpuPerRun: number;
  agentsCpuPerRun: number;
}

/** `count` runs of `true` through a real engine on `app`, timed from the enqueue's commit. */
async function engineLoop(app: App, count: number): Promise<EngineLoopResult> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++)
    ids.push(Number((await addTask(app, { title: `t${i}`, agent: 'bench' })).id.slice(2)));
  const engine = await startEngine(app, { log: quiet });
  let finished = 0;
  const allDone = new Promise<void>((resolve) => {
    app.store.changes.on('events', (events) => {
      for (const e of events) if (e.type === 'run.finished') finished++;
      if (finished >= count) resolve();
    });
  });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await app.store.tx(async (tx) => {
    for (const id of ids) {
      const task = await getTask(tx.db, id);
      if (task)
        await enqueueRun(app, tx, task, {
          agent: 'bench',
          trigger: 'manual',
          prompt: taskPrompt(task),
        });
    }
  });
  await allDone;
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  // Read before the engine stops: its helpers exit with it. Shims are reaped
  // by the time their run is finished, so their CPU is in the helpers' children.
  let helpers = 0;
  let agents = 0;
  for (const pid of spawnerHelpers()) {
    const t = procCpuMs(pid);
    helpers += t?.own ?? 0;
    agents += t?.children ?? 0;
  }
  await engine.stop();
  const engineCpu = (cpu.user + cpu.system) / 1000;
  return {
    ms,
    cpuPerRun: (engineCpu + helpers + agents) / count,
    engineCpuPerRun: engineCpu / count,
    helpersCpuPerRun: helpers / count,
    agentsCpuPerRun: agents / count,
  };
}

/** A board home on tmpfs, when the machine has one: the same engine without the disk's cost. */
async function tmpfsApp(ctx: BenchContext, config: Config): Promise<App | null> {
  if (!fs.existsSync('/dev/shm')) return null;
  const home = fs.mkdtempSync('/dev/shm/agentboard-bench-');
  ctx.onCleanup(() => fs.rmSync(home, { recursive: true, force: true }));
  const app = await openApp({ config, cwd: home, env: { AGENTBOARD_HOME: home } });
  ctx.onCleanup(() => app.store.close());
  return app;
}

async function throughput(ctx: BenchContext): Promise<Row[]> {
  const count = ctx.quick ? 200 : 2000;
  const concurrency = 8;
  const config = benchConfig({
    agents: { bench: { kind: 'command', command: 'true', max_concurrency: concurrency } },
    defaults: { max_attempts: 1 },
    board: { autostart: false, max_concurrency: concurrency },
  });
  const bareBefore = await bareSpawnLoop(count, concurrency);
  const onDisk = await engineLoop(await ctx.openApp('sqlite', { config }), count);
  const shm = await tmpfsApp(ctx, config);
  const onTmpfs = shm ? await engineLoop(shm, count) : null;
  const bareAfter = await bareSpawnLoop(count, concurrency);
  const bare = bareBefore.ms <= bareAfter.ms ? bareBefore : bareAfter;
  const base = { benchmark: 'engine.throughput', n: count };
  const rows: Row[] = [
    {
      ...base,
      store: '',
      metric: `bare spawn loop (${count} × true, c=${concurrency})`,
      value: count / (bare.ms / 1000),
      unit: 'runs/s',
    },
    { ...base, store: '', metric: 'bare loop: CPU per run', value: bare.cpuPerRun, unit: 'ms' },
  ];
  const variants: [string, EngineLoopResult | null][] = [
    ['home on disk', onDisk],
    ['home on tmpfs', onTmpfs],
  ];
  for (const [where, r] of variants) {
    if (!r) continue;
    const row = (metric: string, value: number, unit: string): Row => ({
      ...base,
      store: 'sqlite',
      metric: `${where}: ${metric}`,
      value,
      unit,
    });
    rows.push(
      row('agentboard', count / (r.ms / 1000), 'runs/s'),
      { ...row('share of the bare loop', (100 * bare.ms) / r.ms, '%'), target: { min: 85 } },
      row('CPU per run, engine', r.engineCpuPerRun, 'ms'),
      row('CPU per run, spawner helpers', r.helpersCpuPerRun, 'ms'),
      row('CPU per run, shims + agents', r.agentsCpuPerRun, 'ms'),
    );
  }
  return rows;
}

const CLI = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../src/cli/main.js');

async function recovery(ctx: BenchContext): Promise<Row[]> {
  const live = ctx.quick ? 20 : 100;
  const home = path.join(ctx.tmpDir('recovery'), '.agentboard');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(
    path.join(home, 'config.yaml'),
    `agents:\n  sleeper:\n    kind: command\n    command: /bin/sh\n    args: ["-c", "sleep 60"]\n    max_concurrency: ${live}\nboard:\n  autostart: true\n  max_concurrency: ${live}\n`,
  );
  const env = { ...process.env, AGENTBOARD_HOME: home };
  const serve = () => {
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const ready = new Promise<number>((resolve) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d.toString();
        if (out.includes('agentboard engine')) resolve(performance.now());
      });
    });
    return { child, ready };
  };
  const first = serve();
  await first.ready;
  const board = await openApp({ env });
  ctx.onCleanup(() => board.store.close());
  for (let i = 0; i < live; i++) await addTask(board, { title: `live ${i}`, agent: 'sleeper' });
  const running = async () => (await listRuns(board.store.db, { states: ['running'] })).length;
  while ((await running()) < live) await new Promise((r) => setTimeout(r, 50));
  first.child.kill('SIGKILL');
  await new Promise((r) => first.child.once('exit', r));
  const t0 = performance.now();
  const second = serve();
  const readyAt = await second.ready;
  const adopted = async () =>
    (await readEvents(board.store.db, { after: 0, limit: 100_000 })).filter(
      (e) => e.type === 'run.adopted',
    ).length;
  while ((await adopted()) < live) await new Promise((r) => setTimeout(r, 5));
  const doneAt = performance.now();
  second.child.kill('SIGKILL');
  spawn('pkill', ['-KILL', '-f', 'sleep 60']).once('error', () => {});
  return [
    {
      benchmark: 'engine.recovery',
      store: 'sqlite',
      metric: `restart → ${live} agents re-adopted`,
      value: doneAt - t0,
      unit: 'ms',
      n: live,
      target: { max: 1000 },
    },
    {
      benchmark: 'engine.recovery',
      store: 'sqlite',
      metric: 'of which process start + open',
      value: readyAt - t0,
      unit: 'ms',
      n: 1,
    },
  ];
}

const engine: BenchModule = {
  name: 'engine',
  description: 'dispatch latency, spawn throughput vs a bare loop, recovery after SIGKILL',
  async run(ctx) {
    return [...(await dispatchLatency(ctx)), ...(await throughput(ctx)), ...(await recovery(ctx))];
  },
};

export default engine;
