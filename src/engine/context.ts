import type { App } from '../app/context.js';
import type { Spawner } from '../runner/spawner.js';
import type { LiveRun } from './live-run.js';
import type { ReconcileSummary } from './reconciler.js';
import type { WorkerWatchdog } from './watchdog.js';
import type { WorkerIdentity } from './worker-identity.js';

export interface EngineLogger {
  info(msg: string): void;
  warn(msg: string): void;
}

/** State shared by the engine's parts. `live` holds process handles only; the DB holds the truth. */
export interface EngineContext {
  app: App;
  worker: WorkerIdentity;
  live: Map<string, LiveRun>;
  /** Runs between claim and spawn, by id, with their agent: the reconciler must leave them alone. */
  launching: Map<string, string>;
  log: EngineLogger;
  stopping: boolean;
  /**
   * Launches in flight and start records not yet committed: a graceful stop
   * waits for them, so it leaves no run claimed with nothing behind it.
   */
  settling: Set<Promise<unknown>>;
  /** Starts agent processes (through a small helper process). */
  spawner: Spawner;
  /** Wakes the dispatcher (capacity may have freed up). */
  wake(): void;
  observer: EngineObserver;
  /** The agents this worker may claim runs of (its labels permitting), with their limits. */
  agentLimits: Record<string, number>;
  /** The most runs this worker supervises at once; null: only the board's limits. */
  concurrency: number | null;
  /** Ship run output to the database (PostgreSQL: the API may run on another host). */
  shipOutput: boolean;
  /** Stops this worker's agents if it stops renewing leases (PostgreSQL only: see watchdog.ts). */
  watchdog: WorkerWatchdog | null;
  /** Where this worker's agents call the board back (AGENTBOARD_URL); null when it knows none. */
  apiUrl: string | null;
}

/**
 * What the engine reports as it works, for metrics. Called synchronously on
 * the engine's path: implementations must be cheap and must not throw.
 */
export interface EngineObserver {
  /** A run's agent process was spawned, `latencyMs` after the run became runnable. */
  onDispatched(latencyMs: number, agent: string): void;
  /** One lease pass renewed `n` leases. */
  onLeaseRenewed(n: number): void;
  /** One reconciliation pass (startup or periodic) and what it did. */
  onReconciled(summary: ReconcileSummary): void;
}

export const noopObserver: EngineObserver = {
  onDispatched: () => {},
  onLeaseRenewed: () => {},
  onReconciled: () => {},
};

export const stderrLogger: EngineLogger = {
  info: (m) => process.stderr.write(`[agentboard] ${m}\n`),
  warn: (m) => process.stderr.write(`[agentboard] warning: ${m}\n`),
};
