import type { App } from '../app/context.js';
import { Spawner } from '../runner/spawner.js';
import { deleteWorker, stopWorker, upsertWorker } from '../store/workers.js';
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
  const worker = createWorkerIdentity();
  // Runs this pass takes over carry its id. Were it killed halfway, the next
  // engine here must see that id's process gone and take them at once, not
  // wait out their leases: so it is on record (stopped: no engine is
  // counted alive for it), and removed when the pass is done.
  await app.store.tx(async (tx) => {
    await upsertWorker(tx, {
      id: worker.id,
      host: worker.host,
      boot_id: worker.bootId,
      pid: worker.pid,
      proc_start_time: worker.startTime,
      labels: '[]',
      started_at: tx.now,
    });
    await stopWorker(tx, worker.id);
  });
  const ctx = {
    app,
    worker,
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
    apiUrl: null,
  };
  const summary = await reconcile(ctx, { adopt: false });
  for (const l of ctx.live.values()) l.close();
  await app.store.tx((tx) => deleteWorker(tx, worker.id));
  return summary;
}
