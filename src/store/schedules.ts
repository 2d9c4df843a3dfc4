import type { Insertable, Kysely, Selectable, Updateable } from 'kysely';
import type { TickOutcome } from '../contract/vocabulary.js';
import { ACTIVE_RUN_STATES } from '../domain/run.js';
import { LOCK_KEYS } from './dialect.js';
import type { DB, SchedulesTable, ScheduleTicksTable } from './schema.js';
import type { Tx } from './store.js';

export type ScheduleRow = Selectable<SchedulesTable>;
export type ScheduleTickRow = Selectable<ScheduleTicksTable>;
export type { TickOutcome };

function normalizeSchedule(r: ScheduleRow): ScheduleRow {
  return {
    ...r,
    id: Number(r.id),
    task_id: r.task_id === null ? null : Number(r.task_id),
    catch_up_window_ms: Number(r.catch_up_window_ms),
    last_tick_at: r.last_tick_at === null ? null : Number(r.last_tick_at),
    created_at: Number(r.created_at),
    enabled: Number(r.enabled),
    heartbeat: Number(r.heartbeat),
  };
}

export async function insertSchedule(
  tx: Tx,
  row: Omit<Insertable<SchedulesTable>, 'id'>,
): Promise<ScheduleRow> {
  const r = await tx.db
    .insertInto('schedules')
    .values(row)
    .returningAll()
    .executeTakeFirstOrThrow();
  return normalizeSchedule(r);
}

export async function getSchedule(db: Kysely<DB>, id: number): Promise<ScheduleRow | undefined> {
  const r = await db.selectFrom('schedules').selectAll().where('id', '=', id).executeTakeFirst();
  return r && normalizeSchedule(r);
}

/**
 * Re-reads a schedule inside a transaction, locking its row on PostgreSQL so
 * two engines ticking the same schedule take turns (SQLite's BEGIN IMMEDIATE
 * already serialises writers).
 */
export async function lockSchedule(tx: Tx, id: number): Promise<ScheduleRow | undefined> {
  const q = tx.db.selectFrom('schedules').selectAll().where('id', '=', id);
  const r = await tx.dialect.lockForUpdate(q).executeTakeFirst();
  return r && normalizeSchedule(r);
}

export async function listSchedules(
  db: Kysely<DB>,
  f: { enabledOnly?: boolean } = {},
): Promise<ScheduleRow[]> {
  let q = db.selectFrom('schedules').selectAll().orderBy('id');
  if (f.enabledOnly) q = q.where('enabled', '=', 1);
  return (await q.execute()).map(normalizeSchedule);
}

export async function updateSchedule(
  tx: Tx,
  id: number,
  patch: Updateable<SchedulesTable>,
): Promise<void> {
  await tx.db.updateTable('schedules').set(patch).where('id', '=', id).execute();
}

/** Removes a schedule and its tick history; the tasks and runs it created stay. */
export async function deleteSchedule(tx: Tx, id: number): Promise<void> {
  await tx.db.deleteFrom('schedule_ticks').where('schedule_id', '=', id).execute();
  await tx.db.deleteFrom('schedules').where('id', '=', id).execute();
}

export async function heartbeatScheduleOf(
  db: Kysely<DB>,
  agent: string,
): Promise<ScheduleRow | undefined> {
  const r = await db
    .selectFrom('schedules')
    .selectAll()
    .where('heartbeat', '=', 1)
    .where('agent', '=', agent)
    .executeTakeFirst();
  return r && normalizeSchedule(r);
}

/** Until commit, no other engine syncs heartbeats: two starting at once must not both create one. */
export async function lockHeartbeats(tx: Tx): Promise<void> {
  await tx.dialect.transactionLock(tx.db, LOCK_KEYS.heartbeats);
}

/** The latest tick before `before` with this outcome, or null. */
export async function lastTickAt(
  db: Kysely<DB>,
  scheduleId: number,
  outcome: TickOutcome,
  before: number,
): Promise<number | null> {
  const r = await db
    .selectFrom('schedule_ticks')
    .select((eb) => eb.fn.max('tick_at').as('t'))
    .where('schedule_id', '=', scheduleId)
    .where('outcome', '=', outcome)
    .where('tick_at', '<', before)
    .executeTakeFirst();
  return r?.t != null ? Number(r.t) : null;
}

/**
 * Records a tick. Returns false when the (schedule, tick) row already exists:
 * another engine dealt with that tick, and this one must not act on it.
 */
export async function insertTick(
  tx: Tx,
  row: Omit<Insertable<ScheduleTicksTable>, 'created_at'>,
): Promise<boolean> {
  const r = await tx.db
    .insertInto('schedule_ticks')
    .values({ ...row, created_at: tx.now })
    .onConflict((oc) => oc.columns(['schedule_id', 'tick_at']).doNothing())
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Updates a recorded tick; `fromOutcome` guards the change (false if it no longer holds). */
export async function updateTick(
  tx: Tx,
  scheduleId: number,
  tickAt: number,
  fromOutcome: TickOutcome,
  patch: Updateable<ScheduleTicksTable>,
): Promise<boolean> {
  const r = await tx.db
    .updateTable('schedule_ticks')
    .set(patch)
    .where('schedule_id', '=', scheduleId)
    .where('tick_at', '=', tickAt)
    .where('outcome', '=', fromOutcome)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Ticks waiting their turn (overlap `queue`), oldest first. */
export async function waitingTicks(db: Kysely<DB>, scheduleId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('schedule_ticks')
    .select('tick_at')
    .where('schedule_id', '=', scheduleId)
    .where('outcome', '=', 'waiting')
    .orderBy('tick_at')
    .execute();
  return rows.map((r) => Number(r.tick_at));
}

/** Schedules with at least one waiting tick. */
export async function schedulesWithWaitingTicks(db: Kysely<DB>): Promise<Set<number>> {
  const rows = await db
    .selectFrom('schedule_ticks')
    .select('schedule_id')
    .distinct()
    .where('outcome', '=', 'waiting')
    .execute();
  return new Set(rows.map((r) => Number(r.schedule_id)));
}

/**
 * Whether the schedule's previous work is still active: any active run on its
 * fixed task (whoever started it), or on a task one of its ticks created.
 */
export async function scheduleBusy(db: Kysely<DB>, s: ScheduleRow): Promise<boolean> {
  let q = db.selectFrom('runs').select('id').where('state', 'in', ACTIVE_RUN_STATES);
  if (s.task_id !== null) q = q.where('task_id', '=', s.task_id);
  else {
    q = q.where('task_id', 'in', (eb) =>
      eb
        .selectFrom('schedule_ticks')
        .select('task_id')
        .where('schedule_id', '=', s.id)
        .where('task_id', 'is not', null),
    );
  }
  return (await q.limit(1).executeTakeFirst()) !== undefined;
}

export type TickCounts = Record<TickOutcome, number>;

/** Recorded ticks per outcome, for every schedule at once. */
export async function tickCounts(db: Kysely<DB>): Promise<Map<number, TickCounts>> {
  const rows = await db
    .selectFrom('schedule_ticks')
    .select(['schedule_id', 'outcome', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['schedule_id', 'outcome'])
    .execute();
  const out = new Map<number, TickCounts>();
  for (const r of rows) {
    const id = Number(r.schedule_id);
    const c = out.get(id) ?? { run: 0, skipped: 0, waiting: 0, idle: 0 };
    c[r.outcome] = Number(r.n);
    out.set(id, c);
  }
  return out;
}

export async function ticksOf(db: Kysely<DB>, scheduleId: number): Promise<ScheduleTickRow[]> {
  const rows = await db
    .selectFrom('schedule_ticks')
    .selectAll()
    .where('schedule_id', '=', scheduleId)
    .orderBy('tick_at')
    .execute();
  return rows.map((r) => ({
    ...r,
    schedule_id: Number(r.schedule_id),
    tick_at: Number(r.tick_at),
    task_id: r.task_id === null ? null : Number(r.task_id),
    created_at: Number(r.created_at),
  }));
}
