import type { App } from '../app/context.js';
import { Spawner } from '../runner/spawner.js';
import type { EventRecord } from '../store/events.js';
import { stopWorker, upsertWorker } from '../store/workers.js';
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
import { type ReconcileSummary, reconcile } from './reconciler.js';
import { Scheduler } from './scheduler.js';
import { createWorkerIdentity, type WorkerIdentity } from './worker-identity.js';

export interface EngineOptions {
  log?: EngineLogger;
  /** How often monitors look at live runs. */
  monitorIntervalMs?: number;
  reconcileIntervalMs?: number;
  /** How often SQLite's data_version is checked for commits by other processes. */
  changePollMs?: number;
  /** Told of dispatches, lease renewals and reconciliations (metrics); no-op by default. */
  observer?: EngineObserver;
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
  const timers: NodeJS.Timeout[] = [];
  let dispatcher: Dispatcher | undefined;
  const ctx: EngineContext = {
    app,
    worker,
    live: new Map(),
    launching: new Map(),
    log: opts.log ?? stderrLogger,
    stopping: false,
    spawner: new Spawner(),
    wake: () => dispatcher?.wake(),
    observer: opts.observer ?? noopObserver,
  };
  dispatcher = new Dispatcher(ctx);

  await app.store.tx((tx) =>
    upsertWorker(tx, {
      id: worker.id,
      host: worker.host,
      boot_id: worker.bootId,
      pid: worker.pid,
      proc_start_time: worker.startTime,
      labels: JSON.stringify(Object.keys(app.config.agents)),
      started_at: tx.now,
    }),
  );
  const recovered = await reconcile(ctx);
  const scheduler = new Scheduler(ctx);
  await scheduler.start();

  const stopRequests = exclusive(ctx, 'stop requests', () => applyStopRequests(ctx));
  const onEvents = (events: EventRecord[]) => {
    dispatcher?.wake();
    scheduler.notice(events);
    if (events.some((e) => e.type === 'run.stop_requested' || e.type === 'external'))
      stopRequests();
  };
  app.store.changes.on('events', onEvents);

  // Commits by other processes (the CLI) on SQLite: a cheap pragma check.
  let version = app.store.dataVersion();
  if (version !== null) {
    timers.push(
      setInterval(() => {
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
    const t = setInterval(exclusive(ctx, name, fn), ms);
    timers.push(t);
  };
  every(opts.monitorIntervalMs ?? 1000, 'monitors', () => monitorTick(ctx));
  every(opts.reconcileIntervalMs ?? 5000, 'reconciler', () => reconcile(ctx));
  every(app.config.defaults.lease / 3, 'leases', () => renewAll(ctx));
  const gcEvery = app.config.board.gc.every;
  if (gcEvery !== undefined) {
    const gc = exclusive(ctx, 'gc', () => scheduledGc(ctx));
    timers.push(setInterval(gc, gcCheckInterval(gcEvery)));
    gc();
  }
  dispatcher.wake();

  return {
    worker,
    recovered,
    liveRuns: () => ctx.live.size,
    async stop() {
      ctx.stopping = true;
      scheduler.stop();
      for (const t of timers) clearInterval(t);
      dispatcher?.stop();
      app.store.changes.off('events', onEvents);
      for (const live of ctx.live.values()) live.close();
      ctx.spawner.close();
      await app.store.tx((tx) => stopWorker(tx, worker.id)).catch(() => {});
    },
  };
}

/**
 * Wraps a pass (monitors, reconciler, ...) so that it never overlaps itself:
 * a call while a pass runs is dropped, since the next tick covers it. Errors
 * are logged, never thrown: the engine keeps going.
 */
function exclusive(ctx: EngineContext, name: string, fn: () => Promise<unknown>): () => void {
  let running = false;
  return () => {
    if (running || ctx.stopping) return;
    running = true;
    fn()
      .catch((e) => ctx.log.warn(`${name}: ${(e as Error).message}`))
      .finally(() => {
        running = false;
      });
  };
}
