/**
 * A claimed run handed back before its agent was spawned: it goes back to
 * `queued`, the same row and the same attempt, so a restart or a crash
 * between claim and spawn never charges an attempt for a run that never ran.
 */
import { stepRun } from '../domain/run.js';
import { appendEvent } from '../store/events.js';
import { releaseClaimedRun } from '../store/runs.js';
import type { App } from './context.js';

/** Returns false when the run was no longer claimed under `token` (taken over, cancelled, started). */
export async function releaseClaim(
  app: App,
  run: { id: string; task_id: number },
  token: number,
  why: string,
): Promise<boolean> {
  const step = stepRun('claimed', { type: 'release' });
  return app.store.tx(async (tx) => {
    // The statement itself checks the run is still claimed under `token`.
    if (!(await releaseClaimedRun(tx, run.id, token, step))) return false;
    await appendEvent(tx, 'run.released', {
      taskId: run.task_id,
      runId: run.id,
      data: { reason: why },
    });
    return true;
  });
}
