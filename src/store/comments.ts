import { type Kysely, type Selectable, sql } from 'kysely';
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
  return commentRow(row);
}

export async function commentsOf(db: Kysely<DB>, taskId: number): Promise<CommentRow[]> {
  const rows = await db
    .selectFrom('comments')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('id')
    .execute();
  return rows.map(commentRow);
}

/**
 * Comments since `since` whose text contains `@name` (any case), newest
 * first, at most `limit`: the candidates for a mention, which the caller
 * confirms with the domain's mention parser.
 */
export async function commentsMentioning(
  db: Kysely<DB>,
  name: string,
  since: number,
  limit: number,
): Promise<CommentRow[]> {
  const rows = await db
    .selectFrom('comments')
    .selectAll()
    .where('created_at', '>', since)
    .where(sql<boolean>`lower(body) like ${`%@${name.toLowerCase()}%`}`)
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
  return rows.map(commentRow);
}

/** Whether `author` commented on the task at or after `since`. */
export async function hasCommentSince(
  db: Kysely<DB>,
  taskId: number,
  author: string,
  since: number,
): Promise<boolean> {
  const r = await db
    .selectFrom('comments')
    .select('id')
    .where('task_id', '=', taskId)
    .where('author', '=', author)
    .where('created_at', '>=', since)
    .limit(1)
    .executeTakeFirst();
  return r !== undefined;
}

/** A comment row with its numbers as numbers (PostgreSQL returns bigints as strings). */
function commentRow(r: CommentRow): CommentRow {
  return { ...r, id: Number(r.id), task_id: Number(r.task_id), created_at: Number(r.created_at) };
}
