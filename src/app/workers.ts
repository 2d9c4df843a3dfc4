import type { RunRow } from '../store/runs.js';
import { liveWorkers, recentWorkers, runningByWorker } from '../store/workers.js';
import type { App } from './context.js';
import { type RunView, type Supervision, supervisedRunView } from './views.js';

/** Whether some engine (`agentboard serve` or `worker`) is alive and will pick up queued runs. */
export async function engineIsRunning(app: App): Promise<boolean> {
  return (await supervision(app)).engineAlive;
}

/**
 * The lease clock and whether any worker is alive, from the database: what
 * says a run is unsupervised, whichever process asks (an engine's memory
 * knows only its own runs).
 */
export async function supervision(app: App): Promise<Supervision> {
  const leaseNow = await app.store.leaseNow();
  const alive = await liveWorkers(app.store.db, leaseNow - app.config.defaults.lease);
  return { leaseNow, engineAlive: alive.length > 0 };
}

/** Run views with `unsupervised` judged on the database's current word. */
export async function runViews(app: App, rows: RunRow[]): Promise<RunView[]> {
  if (rows.length === 0) return [];
  return rows.map(supervisedRunView(await supervision(app)));
}

export interface WorkerView {
  id: string;
  host: string;
  pid: number;
  labels: string[];
  /** The worker's own cap on runs at once; null: only the board's limits. */
  concurrency: number | null;
  startedAt: number;
  lastHeartbeatAt: number;
  /** Heartbeating within one lease period, and not stopped. */
  alive: boolean;
  stoppedAt: number | null;
  /** Claimed or running runs it holds. */
  running: number;
}

/**
 * The workers of the board: alive ones, and dead ones that heartbeat within
 * the last hour or still hold runs (whose leases will expire and be
 * recovered). Liveness is judged on the lease clock (the database's on
 * PostgreSQL), like the leases themselves.
 */
export async function listWorkers(app: App): Promise<WorkerView[]> {
  const now = await app.store.leaseNow();
  const lease = app.config.defaults.lease;
  const [rows, running] = await Promise.all([
    recentWorkers(app.store.db, now - 3_600_000),
    runningByWorker(app.store.db),
  ]);
  return rows.map((w) => ({
    id: w.id,
    host: w.host,
    pid: w.pid,
    labels: JSON.parse(w.labels) as string[],
    concurrency: w.concurrency,
    startedAt: w.started_at,
    lastHeartbeatAt: w.heartbeat_at,
    alive: w.stopped_at === null && now - w.heartbeat_at <= lease,
    stoppedAt: w.stopped_at,
    running: running.get(w.id) ?? 0,
  }));
}
