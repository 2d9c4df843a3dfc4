import type { App } from '../app/context.js';
import { Spawner } from '../runner/spawner.js';
import { type EngineLogger, noopObserver, stderrLogger } from './context.js';
import { type ReconcileSummary, reconcile } from './reconciler.js';
import { createWorkerIdentity } from './worker-identity.js';

/**
 * One reconciliation pass from a short-lived process (the CLI), for when no
 * engine is running to record what happened to stopped runs. Live agents
 * are left alone: adopting them here would give them an owner that exits.
 */
export async function reconcileOnce(
  app: App,
  log: EngineLogger = stderrLogger,
): Promise<ReconcileSummary> {
  const ctx = {
    app,
    worker: createWorkerIdentity(),
    live: new Map(),
    launching: new Map<string, string>(),
    log,
    stopping: false,
    settling: new Set<Promise<unknown>>(),
    spawner: new Spawner(),
    wake: () => {},
    observer: noopObserver,
    agentLimits: {},
    concurrency: null,
    shipOutput: false,
    watchdog: null,
  };
  const summary = await reconcile(ctx, { adopt: false });
  for (const l of ctx.live.values()) l.close();
  return summary;
}
