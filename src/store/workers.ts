import type { Kysely, Selectable } from 'kysely';
import type { DB, WorkersTable } from './schema.js';
import { leaseNow, type Tx } from './store.js';

export type WorkerRow = Selectable<WorkersTable>;

function normalizeWorker(r: WorkerRow): WorkerRow {
  return {
    ...r,
    proc_start_time: r.proc_start_time === null ? null : Number(r.proc_start_time),
    started_at: Number(r.started_at),
    heartbeat_at: Number(r.heartbeat_at),
    stopped_at: r.stopped_at === null ? null : Number(r.stopped_at),
  };
}

export async function upsertWorker(
  tx: Tx,
  w: Omit<WorkerRow, 'heartbeat_at' | 'stopped_at' | 'concurrency'> & {
    concurrency?: number | null;
  },
): Promise<void> {
  // Heartbeats are on the lease clock: liveness is judged against it.
  const beat = await leaseNow(tx);
  await tx.db
    .insertInto('workers')
    .values({ ...w, concurrency: w.concurrency ?? null, heartbeat_at: beat, stopped_at: null })
    .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: beat, stopped_at: null }))
    .execute();
}

export async function heartbeatWorker(tx: Tx, id: string): Promise<void> {
  const beat = await leaseNow(tx);
  await tx.db.updateTable('workers').set({ heartbeat_at: beat }).where('id', '=', id).execute();
}

export async function stopWorker(tx: Tx, id: string): Promise<void> {
  await tx.db.updateTable('workers').set({ stopped_at: tx.now }).where('id', '=', id).execute();
}

export async function deleteWorker(tx: Tx, id: string): Promise<void> {
  await tx.db.deleteFrom('workers').where('id', '=', id).execute();
}

export async function getWorker(db: Kysely<DB>, id: string): Promise<WorkerRow | undefined> {
  const r = await db.selectFrom('workers').selectAll().where('id', '=', id).executeTakeFirst();
  return r && normalizeWorker(r);
}

export async function liveWorkers(db: Kysely<DB>, since: number): Promise<WorkerRow[]> {
  const rows = await db
    .selectFrom('workers')
    .selectAll()
    .where('heartbeat_at', '>=', since)
    .where('stopped_at', 'is', null)
    .execute();
  return rows.map(normalizeWorker);
}

/** Workers that heartbeat since `since` or still hold runs, most recent first. */
export async function recentWorkers(db: Kysely<DB>, since: number): Promise<WorkerRow[]> {
  const rows = await db
    .selectFrom('workers')
    .selectAll()
    .where((eb) =>
      eb.or([
        eb('heartbeat_at', '>=', since),
        eb(
          'id',
          'in',
          eb
            .selectFrom('runs')
            .select('worker_id')
            .where('state', 'in', ['claimed', 'running'])
            .where('worker_id', 'is not', null)
            .$narrowType<{ worker_id: string }>(),
        ),
      ]),
    )
    .orderBy('heartbeat_at', 'desc')
    .execute();
  return rows.map(normalizeWorker);
}

/** Claimed or running runs per worker. */
export async function runningByWorker(db: Kysely<DB>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('runs')
    .select(['worker_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('state', 'in', ['claimed', 'running'])
    .groupBy('worker_id')
    .execute();
  return new Map(rows.map((r) => [r.worker_id ?? '', Number(r.n)]));
}
