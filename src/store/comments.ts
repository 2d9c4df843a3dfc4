import type { Kysely, Selectable } from 'kysely';
import type { CommentsTable, DB } from './schema.js';
import type { Tx } from './store.js';

export type CommentRow = Selectable<CommentsTable>;

export async function insertComment(
  tx: Tx,
  c: { taskId: number; author: string; body: string },
): Promise<CommentRow> {
  const row = await tx.db
    .insertInto('comments')
    .values({ task_id: c.taskId, author: c.author, body: c.body, created_at: tx.now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return {
    ...row,
    id: Number(row.id),
    task_id: Number(row.task_id),
    created_at: Number(row.created_at),
  };
}

export async function commentsOf(db: Kysely<DB>, taskId: number): Promise<CommentRow[]> {
  const rows = await db
    .selectFrom('comments')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    ...r,
    id: Number(r.id),
    task_id: Number(r.task_id),
    created_at: Number(r.created_at),
  }));
}
