/**
 * A claimed run handed back before its agent was spawned: it goes back to
 * `queued`, the same row and the same attempt, so a restart or a crash
 * between claim and spawn never charges an attempt for a run that never ran.
 */
import { transitionRun } from '../domain/run.js';
import { appendEvent } from '../store/events.js';
import { getRun, updateRunFenced } from '../store/runs.js';
import type { App } from './context.js';

/** Returns false when the lease was no longer `token` (taken over, cancelled, started). */
export async function releaseClaim(
  app: App,
  run: { id: string; task_id: number },
  token: number,
  why: string,
): Promise<boolean> {
  const to = transitionRun('claimed', { type: 'release' });
  return app.store.tx(async (tx) => {
    // The fence alone would also match a run already `running`: only a claim is handed back.
    const fresh = await getRun(tx.db, run.id);
    if (fresh?.state !== 'claimed' || fresh.lease_token !== token) return false;
    const ok = await updateRunFenced(tx, run.id, token, {
      state: to,
      worker_id: null,
      lease_token: null,
      lease_expires_at: null,
      host: null,
      boot_id: null,
      claimed_at: null,
    });
    if (!ok) return false;
    await appendEvent(tx, 'run.released', {
      taskId: run.task_id,
      runId: run.id,
      data: { reason: why },
    });
    return true;
  });
}
