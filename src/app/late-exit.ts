/**
 * A run recorded `lost` (its worker died and another host, which cannot see
 * the agent, took the run over) whose agent had in fact finished with exit
 * 0, as its exit.json on this host shows. Its retry, while still queued, is
 * cancelled and the card goes to Review: the finished work is looked at,
 * not done a second time. A retry already under way is left alone.
 */
import { formatTaskId } from '../domain/ids.js';
import { stepRun } from '../domain/run.js';
import { stepTask } from '../domain/task.js';
import { appendEvent } from '../store/events.js';
import { activeRunOfTask, type RunRow, updateRun } from '../store/runs.js';
import { getTask, updateTask } from '../store/tasks.js';
import type { App } from './context.js';

/** Returns whether the retry was held back. */
export async function settleLateSuccess(app: App, lost: RunRow): Promise<boolean> {
  return app.store.tx(async (tx) => {
    const retry = await activeRunOfTask(tx.db, lost.task_id);
    if (retry?.state !== 'queued' || retry.previous_run_id !== lost.id) return false;
    const task = await getTask(tx.db, lost.task_id);
    if (!task) return false;
    const reason = `run ${lost.id}'s agent finished (exit 0) after its worker died, though the board had recorded it lost: review its work (its retry ${retry.id} was cancelled)`;
    await updateRun(tx, retry.id, {
      state: stepRun(retry.state, { type: 'cancel' }),
      ended_at: tx.now,
      error_summary: `cancelled: run ${lost.id} had finished after all`,
    });
    await appendEvent(tx, 'run.finished', {
      taskId: task.id,
      runId: retry.id,
      data: { state: 'cancelled', reason: 'late_success' },
    });
    const from = task.status;
    const step = stepTask(from, { type: 'run_succeeded', to: 'review' }, formatTaskId(task.id));
    await updateTask(tx, task.id, { status: step, status_reason: reason });
    await appendEvent(tx, 'task.moved', { taskId: task.id, data: { from, to: step.to, reason } });
    return true;
  });
}
