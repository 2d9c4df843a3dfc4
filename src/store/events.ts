import type { Kysely } from 'kysely';
import { nextValue } from './counters.js';
import { hotQuery } from './hot-sql.js';
import type { DB } from './schema.js';
import type { Tx } from './store.js';

export interface EventRecord {
  id: number;
  type: string;
  taskId: number | null;
  runId: string | null;
  data: Record<string, unknown>;
  createdAt: number;
}

/**
 * Appends an event in the caller's transaction. Call it after the change it
 * describes, last in the transaction: the event counter's lock serialises
 * writers, so it should be held briefly.
 */
export async function appendEvent(
  tx: Tx,
  type: string,
  ref: { taskId?: number | null; runId?: string | null; data?: Record<string, unknown> },
): Promise<EventRecord> {
  const id = await nextValue(tx, 'event');
  const record: EventRecord = {
    id,
    type,
    taskId: ref.taskId ?? null,
    runId: ref.runId ?? null,
    data: ref.data ?? {},
    createdAt: tx.now,
  };
  await hotQuery(
    tx.db,
    'insert into events (id, type, task_id, run_id, data, created_at) values (?, ?, ?, ?, ?, ?)',
    [id, type, record.taskId, record.runId, JSON.stringify(record.data), tx.now],
  );
  tx.events.push(record);
  return record;
}

export async function readEvents(
  db: Kysely<DB>,
  opts: { after: number; limit: number; taskId?: number },
): Promise<EventRecord[]> {
  let q = db.selectFrom('events').selectAll().where('id', '>', opts.after);
  if (opts.taskId !== undefined) q = q.where('task_id', '=', opts.taskId);
  const rows = await q.orderBy('id').limit(opts.limit).execute();
  return rows.map((r) => ({
    id: Number(r.id),
    type: r.type,
    taskId: r.task_id === null ? null : Number(r.task_id),
    runId: r.run_id,
    data: JSON.parse(r.data) as Record<string, unknown>,
    createdAt: Number(r.created_at),
  }));
}

export async function lastEventId(db: Kysely<DB>): Promise<number> {
  const r = await db
    .selectFrom('events')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(r?.id ?? 0);
}
