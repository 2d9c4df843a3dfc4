import type { App } from '../app/context.js';
import { systemClock, type Timer } from '../domain/clock.js';
import { Spawner } from '../runner/spawner.js';
import type { EventRecord } from '../store/events.js';
import { stopWorker, upsertWorker } from '../store/workers.js';
import { recordApprovals } from './approval-transcript.js';
import {
  type EngineContext,
  type EngineLogger,
  type EngineObserver,
  noopObserver,
  stderrLogger,
} from './context.js';
import { Dispatcher } from './dispatcher.js';
import { gcCheckInterval, scheduledGc } from './gc-schedule.js';
import { renewAll } from './leases.js';
import { applyStopRequests, monitorTick } from './monitors.js';
import { settleLateExits, sweepOrphans } from './orphans.js';
import { type ReconcileSummary, reconcile } from './reconciler.js';
import { Scheduler } from './scheduler.js';
import { startWatchdog, watchdogWanted } from './watchdog.js';
import { createWorkerIdentity, type WorkerIdentity } from './worker-identity.js';
import { claimableAgents } from './worker-labels.js';

export interface EngineOptions {
  log?: EngineLogger;
  /** How often monitors look at live runs. */
  monitorIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** How often SQLite's data_version is checked for commits by other processes. */
  changePollMs?: number;
  /** Told of dispatches, lease renewals and reconciliations (metrics); no-op by default. */
  observer?: EngineObserver;
  /**
   * false: claim and run nothing (`serve --no-worker`: the API only; the
   * engine then registers no worker and starts no timers).
   */
  claim?: boolean;
  /** What this worker can run (`worker --labels`): see claimableAgents. Default: every agent. */
  labels?: string[];
  /** The most runs this worker supervises at once (`worker --concurrency`). */
  concurrency?: number;
  /**
   * PostgreSQL: how often to look for runnable runs without a notification,
   * while LISTEN is up (a safety net) and while it is down (the fallback).
   */
  fallbackPollMs?: { listening: number; notListening: number };
  /**
   * The board's API, for agents to call back with their run's token
   * (`serve`: its own address; `worker`: AGENTBOARD_URL).
   */
  apiUrl?: string;
}

export interface Engine {
  worker: WorkerIdentity;
  /** What the startup reconciliation found. */
  recovered: ReconcileSummary;
  /** Graceful shutdown: stop claiming, leave agents running for the next start to adopt. */
  stop(): Promise<void>;
  liveRuns(): number;
}

/**
 * The execution engine of one worker process: reconcile what a previous
 * process left, then dispatch on every change, supervise live runs, renew
 * leases and run the monitors.
 */
export async function startEngine(app: App, opts: EngineOptions = {}): Promise<Engine> {
  const worker = createWorkerIdentity();
  // A long-lived process: SQLite's checkpoints leave its commits (a claim, a request).
  app.store.startCheckpointer();
  if (opts.claim === false) return idleEngine(worker);
  const agentLimits = claimableAgents(app.config, opts.labels);
  const { clock } = app;
  // Deadlines (leases, monitors, reconciling, gc) run on the board's clock, so
  // a test can drive them; polls for other processes' commits are I/O and
  // run on real time whatever the clock.
  const timers: Timer[] = [];
  const realTimers: Timer[] = [];
  const postgres = app.store.dialect.multiHost;
  let dispatcher: Dispatcher | undefined;
  const ctx: EngineContext = {
    app,
    worker,
    live: new Map(),
    launching: new Map(),
    log: opts.log ?? stderrLogger,
    stopping: false,
    settling: new Set(),
    spawner: new Spawner(),
    wake: () => dispatcher?.wake(),
    observer: opts.observer ?? noopObserver,
    agentLimits,
    concurrency: opts.concurrency ?? null,
    shipOutput: postgres,
    watchdog: null,
    apiUrl: opts.apiUrl ?? null,
  };
  dispatcher = new Dispatcher(ctx);
  ctx.spawner.warm();

  await app.store.tx((tx) =>
    upsertWorker(tx, {
      id: worker.id,
      host: worker.host,
      boot_id: worker.bootId,
      pid: worker.pid,
      proc_start_time: worker.startTime,
      labels: JSON.stringify(opts.labels ?? Object.keys(agentLimits)),
      concurrency: opts.concurrency ?? null,
      started_at: tx.now,
    }),
  );
  // Before anything is adopted or claimed: from here on no agent of this worker goes unwatched.
  if (watchdogWanted(app)) ctx.watchdog = startWatchdog(app, worker.id, ctx.log);
  // Renewing from now on, not after reconciling: a slow startup reconciliation
  // (a restart storm) must not leave adopted runs, or the watchdog, waiting.
  const renew = exclusive(ctx, 'leases', () => renewAll(ctx));
  timers.push(clock.setInterval(renew, app.config.defaults.lease / 3));
  await sweepOrphans(ctx);
  await settleLateExits(ctx);
  const recovered = await reconcile(ctx);
  const scheduler = new Scheduler(ctx);
  await scheduler.start();

  const stopRequests = exclusive(ctx, 'stop requests', () => applyStopRequests(ctx));
  const onEvents = (events: EventRecord[]) => {
    // A wake costs a claim transaction: only for what can let a claim succeed.
    if (events.some((e) => WAKING_TYPES.has(e.type))) dispatcher?.wake();
    scheduler.notice(events);
    if (events.some((e) => e.type === 'run.stop_requested' || e.type === 'external'))
      stopRequests();
    if (events.some((e) => e.type.startsWith('approval.')))
      recordApprovals(ctx).catch((e) => ctx.log.warn(`approval lines: ${(e as Error).message}`));
  };
  app.store.changes.on('events', onEvents);

  // Commits by other processes (the CLI) on SQLite: a cheap pragma check.
  let version = app.store.dataVersion();
  if (version !== null) {
    realTimers.push(
      systemClock.setInterval(() => {
        const v = app.store.dataVersion();
        if (v !== version) {
          version = v;
          onEvents([
            { id: 0, type: 'external', taskId: null, runId: null, data: {}, createdAt: 0 },
          ]);
        }
      }, opts.changePollMs ?? 50),
    );
  }
  const every = (ms: number, name: string, fn: () => Promise<unknown>) => {
    timers.push(clock.setInterval(exclusive(ctx, name, fn), ms));
  };
  every(opts.monitorIntervalMs ?? 1000, 'monitors', () => monitorTick(ctx));
  every(opts.reconcileIntervalMs ?? 5000, 'reconciler', () => reconcile(ctx));
  const gcEvery = app.config.board.gc.every;
  if (gcEvery !== undefined) {
    const gc = exclusive(ctx, 'gc', () => scheduledGc(ctx));
    timers.push(clock.setInterval(gc, gcCheckInterval(gcEvery)));
    // The first look at once, but on the clock: a test awaits it by advancing 0 ms.
    timers.push(clock.setTimeout(gc, 0));
  }

  // Every worker hears every commit: wake only for what can let a claim
  // succeed (a run queued, a run ended, a card moved) or stop a run. A wake
  // costs a claim transaction, serialised with every other worker's.
  const onExternal = (types: string[]) => {
    if (types.some((t) => t.startsWith('approval.')))
      recordApprovals(ctx).catch((e) => ctx.log.warn(`approval lines: ${(e as Error).message}`));
    if (!types.some((t) => WAKING_TYPES.has(t))) return;
    onEvents(
      types.map((type) => ({ id: 0, type, taskId: null, runId: null, data: {}, createdAt: 0 })),
    );
  };
  // The LISTEN connection is back: notifications sent meanwhile are lost, so
  // look at the database once, and re-establish leases at once.
  const onListener = (state: 'up' | 'down') => {
    if (state === 'up') {
      onExternal(['external']);
      renew();
    }
  };
  if (postgres) {
    // Commits by other processes, on any host: LISTEN/NOTIFY, with polling only as a fallback.
    app.store.changes.on('external', onExternal);
    app.store.changes.on('listener', onListener);
    app.store.listen();
    const poll = opts.fallbackPollMs ?? { listening: 15_000, notListening: 1000 };
    let lastPoll = performance.now();
    realTimers.push(
      systemClock.setInterval(
        () => {
          const every = app.store.listening ? poll.listening : poll.notListening;
          if (performance.now() - lastPoll < every) return;
          lastPoll = performance.now();
          onExternal(['external']);
        },
        Math.min(poll.listening, poll.notListening),
      ),
    );
  }
  dispatcher.wake();

  return {
    worker,
    recovered,
    liveRuns: () => ctx.live.size,
    async stop() {
      ctx.stopping = true;
      scheduler.stop();
      for (const t of timers) clock.clearInterval(t);
      for (const t of realTimers) systemClock.clearInterval(t);
      dispatcher?.stop();
      // Launches in flight either start their agent (and record it) or hand
      // their claim back; a stop that left them claimed would charge an
      // attempt at the next start for a run that never ran. Leases are
      // renewed around the wait: the watchdog must not take a slow stop for
      // a stuck worker.
      if (ctx.watchdog) await renewAll(ctx).catch(() => {});
      await settle(ctx.settling, STOP_SETTLE_MS);
      if (ctx.watchdog) await renewAll(ctx).catch(() => {});
      app.store.changes.off('events', onEvents);
      app.store.changes.off('external', onExternal);
      app.store.changes.off('listener', onListener);
      for (const live of ctx.live.values()) live.close();
      ctx.spawner.close();
      await app.store.tx((tx) => stopWorker(tx, worker.id)).catch(() => {});
      // As after a crash: its agents wait, frozen, for the next worker here.
      ctx.watchdog?.close();
    },
  };
}

/** The longest a graceful stop waits for launches in flight. */
const STOP_SETTLE_MS = 10_000;

/** Real time, whatever the board clock: what it waits for is processes starting. */
async function settle(pending: Set<Promise<unknown>>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((r) => {
    timer = setTimeout(r, ms);
  });
  // A launch may start another record while we wait: look until none is left.
  while (pending.size > 0) {
    const all = Promise.allSettled([...pending]).then(() => 'done' as const);
    if ((await Promise.race([all, timeout])) !== 'done') break;
  }
  clearTimeout(timer);
}

const WAKING_TYPES = new Set([
  'external',
  'run.queued',
  'run.released',
  'run.finished',
  'run.stop_requested',
  'task.moved',
  'task.updated',
  // A deleted task may have been what another waited on.
  'task.deleted',
]);

/** `serve --no-worker`: an engine that claims, runs and recovers nothing. */
function idleEngine(worker: WorkerIdentity): Engine {
  return {
    worker,
    recovered: { adopted: 0, recorded: 0, lost: 0, released: 0, pending: 0 },
    liveRuns: () => 0,
    stop: async () => {},
  };
}

/**
 * Wraps a pass (monitors, reconciler, ...) so that it never overlaps itself:
 * a call while a pass runs is dropped, since the next tick covers it. Errors
 * are logged, never thrown: the engine keeps going. Returns the pass it
 * started, for a manual clock to await; timers on the system clock ignore it.
 */
function exclusive(
  ctx: EngineContext,
  name: string,
  fn: () => Promise<unknown>,
): () => Promise<void> | undefined {
  let running = false;
  return () => {
    if (running || ctx.stopping) return undefined;
    running = true;
    return fn()
      .then(
        () => {},
        (e) => ctx.log.warn(`${name}: ${(e as Error).message}`),
      )
      .finally(() => {
        running = false;
      });
  };
}
