import { renewLeases } from '../store/runs.js';
import { heartbeatWorker } from '../store/workers.js';
import type { EngineContext } from './context.js';
import type { LiveRun } from './live-run.js';

/** Given up this long before the lease would run out: renewal itself takes time. */
const SAFETY_MS = 2000;

/**
 * Renews the leases of every run this worker supervises, and heartbeats the
 * worker. A run whose lease could not be renewed was taken over (or ended)
 * elsewhere: its agent is killed, and this worker writes nothing more for it.
 *
 * With the database out of reach the agents keep running, as long as their
 * leases may still be valid; a lease that may have run out (measured on this
 * process's monotonic clock from the last renewal known good) may be someone
 * else's by now, so that run is given up: its agent is stopped, and its end
 * is recorded as lost, fenced, once the database answers.
 */
export async function renewAll(ctx: EngineContext): Promise<void> {
  const { app } = ctx;
  const lease = app.config.defaults.lease;
  const held = [...ctx.live.values()].filter((l) => !l.hasExited || l.finalizePending);
  const sentAt = performance.now();
  let kept: Set<string>;
  try {
    kept = await app.store.tx(async (tx) => {
      await heartbeatWorker(tx, ctx.worker.id);
      return renewLeases(
        tx,
        held.map((l) => ({ id: l.id, token: l.token })),
        lease,
      );
    });
  } catch (e) {
    for (const live of held) {
      if (live.hasExited || live.gaveUp) continue;
      if (performance.now() - live.leaseConfirmedAt < lease - SAFETY_MS) continue;
      ctx.log.warn(
        `run ${live.id}: no lease renewal for ${Math.round(lease / 1000)}s (database unreachable); giving it up`,
      );
      live.gaveUp = `worker ${ctx.worker.id} lost the database for longer than its lease and gave the run up`;
      stopAgent(live);
    }
    throw e;
  }
  ctx.watchdog?.renewed();
  ctx.observer.onLeaseRenewed(kept.size);
  for (const live of held) {
    if (kept.has(live.id)) {
      live.leaseConfirmedAt = sentAt;
      continue;
    }
    if (live.hasExited) {
      // Ended here but no longer ours: nothing more to record.
      ctx.live.delete(live.id);
      live.close();
      continue;
    }
    ctx.log.warn(`lost the lease of run ${live.id}: killing its agent`);
    ctx.live.delete(live.id);
    live.stopRequested = true;
    void live.terminate(0).finally(() => live.close());
  }
}

function stopAgent(live: LiveRun): void {
  live.stopRequested = true;
  void live.terminate(0);
}
