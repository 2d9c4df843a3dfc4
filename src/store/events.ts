import type { Kysely } from 'kysely';
import type { EventType } from '../contract/event-types.js';
import type { EventData } from '../contract/events.js';
import { nextValue } from './counters.js';
import { hotQuery } from './hot-sql.js';
import type { DB } from './schema.js';
import type { Tx } from './store.js';

/**
 * An event row. `type` is text: a newer agentboard sharing the database may
 * have written a type this one does not know (what this one writes is an
 * AppendedEvent).
 */
export interface EventRecord {
  id: number;
  type: string;
  taskId: number | null;
  runId: string | null;
  data: Record<string, unknown>;
  createdAt: number;
}

/** An event this process wrote: its type is one of the contract's. */
export interface AppendedEvent extends EventRecord {
  type: EventType;
}

/**
 * Appends an event in the caller's transaction. The payload is the
 * contract's for `type` (src/contract/events.ts): an unknown type or a
 * payload of another shape does not compile. Call it after the change it
 * describes, last in the transaction: the event counter's lock serialises
 * writers, so it should be held briefly.
 */
export async function appendEvent<T extends EventType>(
  tx: Tx,
  type: T,
  ref: { taskId?: number | null; runId?: string | null; data: EventData<T> },
): Promise<AppendedEvent> {
  const id = await nextValue(tx, 'event');
  const record: AppendedEvent = {
    id,
    type,
    taskId: ref.taskId ?? null,
    runId: ref.runId ?? null,
    data: ref.data,
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
