/**
 * Finding a task or saying it is not there. Its own module, below tasks.ts,
 * so that messages (and what posts them, finish-run) can use it without
 * importing the task workflows that in turn finish runs.
 */
import { NotFoundError } from '../domain/errors.js';
import { formatTaskId } from '../domain/ids.js';
import type { Tx } from '../store/store.js';
import { getTask, type TaskRow } from '../store/tasks.js';

export function taskNotFound(id: number): NotFoundError {
  return new NotFoundError('task', formatTaskId(id), 'list tasks with `agentboard task list`');
}

export async function requireTask(tx: Tx, id: number): Promise<TaskRow> {
  const t = await getTask(tx.db, id);
  if (!t) throw taskNotFound(id);
  return t;
}
