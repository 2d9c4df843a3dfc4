import type { App } from '../app/context.js';
import type { Spawner } from '../runner/spawner.js';
import type { LiveRun } from './live-run.js';
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
  /** Starts agent processes (through a small helper process). */
  spawner: Spawner;
  /** Wakes the dispatcher (capacity may have freed up). */
  wake(): void;
}

export const stderrLogger: EngineLogger = {
  info: (m) => process.stderr.write(`[agentboard] ${m}\n`),
  warn: (m) => process.stderr.write(`[agentboard] warning: ${m}\n`),
};
