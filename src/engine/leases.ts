import { renewLeases } from '../store/runs.js';
import { heartbeatWorker } from '../store/workers.js';
import type { EngineContext } from './context.js';

/**
 * Renews the leases of every run this worker supervises, and heartbeats the
 * worker. A run whose lease could not be renewed was taken over (or ended)
 * elsewhere: its agent is killed, and this worker writes nothing more for it.
 */
export async function renewAll(ctx: EngineContext): Promise<void> {
  const { app } = ctx;
  const held = [...ctx.live.values()]
    .filter((l) => !l.hasExited)
    .map((l) => ({ id: l.id, token: l.token }));
  const kept = await app.store.tx(async (tx) => {
    await heartbeatWorker(tx, ctx.worker.id);
    return renewLeases(tx, held, app.config.defaults.lease);
  });
  ctx.observer.onLeaseRenewed(kept.size);
  for (const h of held) {
    if (kept.has(h.id)) continue;
    const live = ctx.live.get(h.id);
    if (!live || live.hasExited) continue;
    ctx.log.warn(`lost the lease of run ${h.id}: killing its agent`);
    ctx.live.delete(h.id);
    live.stopRequested = true;
    void live.terminate(0).finally(() => live.close());
  }
}
