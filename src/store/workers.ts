import type { Kysely, Selectable } from 'kysely';
import type { DB, WorkersTable } from './schema.js';
import type { Tx } from './store.js';

export type WorkerRow = Selectable<WorkersTable>;

export async function upsertWorker(
  tx: Tx,
  w: Omit<WorkerRow, 'heartbeat_at' | 'stopped_at'>,
): Promise<void> {
  await tx.db
    .insertInto('workers')
    .values({ ...w, heartbeat_at: tx.now, stopped_at: null })
    .onConflict((oc) => oc.column('id').doUpdateSet({ heartbeat_at: tx.now, stopped_at: null }))
    .execute();
}

export async function heartbeatWorker(tx: Tx, id: string): Promise<void> {
  await tx.db.updateTable('workers').set({ heartbeat_at: tx.now }).where('id', '=', id).execute();
}

export async function stopWorker(tx: Tx, id: string): Promise<void> {
  await tx.db.updateTable('workers').set({ stopped_at: tx.now }).where('id', '=', id).execute();
}

export async function getWorker(db: Kysely<DB>, id: string): Promise<WorkerRow | undefined> {
  const r = await db.selectFrom('workers').selectAll().where('id', '=', id).executeTakeFirst();
  return (
    r && { ...r, proc_start_time: r.proc_start_time === null ? null : Number(r.proc_start_time) }
  );
}

export async function liveWorkers(db: Kysely<DB>, since: number): Promise<WorkerRow[]> {
  return db
    .selectFrom('workers')
    .selectAll()
    .where('heartbeat_at', '>=', since)
    .where('stopped_at', 'is', null)
    .execute();
}
