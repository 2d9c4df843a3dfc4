import fs from 'node:fs';
import { ConflictError } from '../domain/errors.js';
import { formatTaskId } from '../domain/ids.js';
import { appendEvent } from '../store/events.js';
import { activeRunOfTask } from '../store/runs.js';
import { deleteTaskRows, schedulesOfTask } from '../store/task-delete.js';
import { getWorkspace } from '../store/workspaces.js';
import { removeWorktree } from '../workspace/repo.js';
import type { App } from './context.js';
import { requireTask } from './task-lookup.js';

/**
 * Deletes a task for good. A task with an active run is refused: its agent
 * would be left without a card. Cancelling is the way to stop work; deleting
 * is for mistakes and clutter.
 */
export async function deleteTask(app: App, id: number): Promise<{ id: string; deleted: true }> {
  await removeTaskWorktree(app, id);
  return app.store.tx(async (tx) => {
    const task = await requireTask(tx, id);
    const active = await activeRunOfTask(tx.db, id);
    const tid = formatTaskId(id);
    if (active) {
      throw new ConflictError(
        'run_active',
        `${tid} has an active run ${active.id} (${active.state}): cancel the task first (\`agentboard task cancel ${tid}\`), then delete it`,
        { activeRun: active.id, state: active.state },
      );
    }
    const schedules = await schedulesOfTask(tx, id);
    if (schedules > 0) {
      throw new ConflictError(
        'task_scheduled',
        `${tid} is the target of ${schedules} schedule(s): remove them first (\`agentboard schedule list\`)`,
      );
    }
    await deleteTaskRows(tx, id);
    await appendEvent(tx, 'task.deleted', { taskId: id, data: { title: task.title } });
    return { id: tid, deleted: true as const };
  });
}

/**
 * A deleted task's worktree goes with it; its branch stays, so the work can
 * still be merged or brought back (`git worktree add`). Removed before the
 * rows: should the delete then be refused (a run started meanwhile), that
 * run recreates the worktree from the branch.
 */
async function removeTaskWorktree(app: App, id: number): Promise<void> {
  const ws = await getWorkspace(app.store.db, id);
  if (!ws || ws.removed_at !== null || !fs.existsSync(ws.path)) return;
  const idle = async () => (await activeRunOfTask(app.store.db, id)) === undefined;
  if (!(await idle())) return; // the transaction below refuses, naming the run
  await removeWorktree(ws.repo, ws.path, idle);
}
