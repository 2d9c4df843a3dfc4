import type { Kysely, Selectable } from 'kysely';
import type { MessageType } from '../contract/vocabulary.js';
import { nextValue } from './counters.js';
import { hotQuery } from './hot-sql.js';
import type { DB, MessagesTable } from './schema.js';
import type { Tx } from './store.js';

export type MessageRow = Selectable<MessagesTable>;

/**
 * Appends a message to the bus. Its id comes from a counter, not the
 * table's serial: ids are then handed out in commit order, so a reader
 * resuming after id N never skips a message committed late.
 */
/** A message to store: about a task (or the board, null), maybe a run of it. */
export interface NewMessage {
  taskId: number | null;
  runId: string | null;
  type: MessageType;
  author: string;
  body: string;
}

export async function insertMessage(tx: Tx, m: NewMessage): Promise<MessageRow> {
  const row: MessageRow = {
    id: await nextValue(tx, 'message'),
    task_id: m.taskId,
    run_id: m.runId,
    type: m.type,
    author: m.author,
    body: m.body,
    created_at: tx.now,
  };
  await hotQuery(
    tx.db,
    'insert into messages (id, task_id, run_id, type, author, body, created_at) values (?, ?, ?, ?, ?, ?, ?)',
    [row.id, row.task_id, row.run_id, row.type, row.author, row.body, row.created_at],
  );
  return row;
}

/** Messages after the cursor `after` (an id), oldest first; the board's or one task's. */
export async function readMessages(
  db: Kysely<DB>,
  o: { after: number; limit: number; taskId?: number },
): Promise<MessageRow[]> {
  let q = db.selectFrom('messages').selectAll().where('id', '>', o.after);
  if (o.taskId !== undefined) q = q.where('task_id', '=', o.taskId);
  const rows = await q.orderBy('id').limit(o.limit).execute();
  return rows.map((r) => ({
    ...r,
    id: Number(r.id),
    task_id: r.task_id === null ? null : Number(r.task_id),
    created_at: Number(r.created_at),
  }));
}

/** The last `limit` messages (the board's or one task's), oldest first: `bus read --tail`. */
export async function readLatestMessages(
  db: Kysely<DB>,
  o: { limit: number; taskId?: number },
): Promise<MessageRow[]> {
  let q = db.selectFrom('messages').select('id');
  if (o.taskId !== undefined) q = q.where('task_id', '=', o.taskId);
  const newest = await q.orderBy('id', 'desc').limit(o.limit).execute();
  const oldest = newest.at(-1);
  if (oldest === undefined) return [];
  return readMessages(db, { after: Number(oldest.id) - 1, limit: o.limit, taskId: o.taskId });
}

/** The newest message id on the board (0 when there is none): where a follower starts. */
export async function lastMessageId(db: Kysely<DB>): Promise<number> {
  const r = await db
    .selectFrom('messages')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(r?.id ?? 0);
}
