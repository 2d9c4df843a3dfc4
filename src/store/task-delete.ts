import { deleteReviewRows } from './reviews.js';
import type { Tx } from './store.js';

/**
 * Removes a task and everything that belongs only to it: its runs and their
 * events, comments, dependency edges, workspace record, reviews and approvals. Subtasks lose their parent; bus
 * messages and runs of other tasks lose their link. The board's event log
 * keeps its history.
 */
export async function deleteTaskRows(tx: Tx, id: number): Promise<void> {
  const db = tx.db;
  const runIds = db.selectFrom('runs').select('id').where('task_id', '=', id);
  await db
    .updateTable('runs')
    .set({ parent_run_id: null })
    .where('parent_run_id', 'in', runIds)
    .execute();
  await db
    .updateTable('runs')
    .set({ previous_run_id: null })
    .where('previous_run_id', 'in', runIds)
    .where('task_id', '<>', id)
    .execute();
  await db.deleteFrom('run_events').where('run_id', 'in', runIds).execute();
  // Output shipped to the database (PostgreSQL workers): its foreign key would refuse the delete.
  await db.deleteFrom('run_output').where('run_id', 'in', runIds).execute();
  await db.deleteFrom('runs').where('task_id', '=', id).execute();
  await db.deleteFrom('comments').where('task_id', '=', id).execute();
  await db
    .deleteFrom('task_dependencies')
    .where((eb) => eb.or([eb('task_id', '=', id), eb('depends_on_id', '=', id)]))
    .execute();
  await db.updateTable('messages').set({ task_id: null }).where('task_id', '=', id).execute();
  await db.updateTable('tasks').set({ parent_id: null }).where('parent_id', '=', id).execute();
  await db.deleteFrom('workspaces').where('task_id', '=', id).execute();
  await deleteReviewRows(tx, id);
  await db.deleteFrom('tasks').where('id', '=', id).execute();
}

export async function schedulesOfTask(tx: Tx, id: number): Promise<number> {
  const r = await tx.db
    .selectFrom('schedules')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('task_id', '=', id)
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}
