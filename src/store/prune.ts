/**
 * The SQL of retention: the rows gc prunes for finished tasks (board events,
 * bus messages, transcript events, shipped output), the mark a run keeps once
 * its output is gone, and returning the freed pages to the file system.
 */
import { type Kysely, sql } from 'kysely';
import type { DB } from './schema.js';
import type { Store, Tx } from './store.js';

export const PRUNED_TABLES = ['events', 'messages', 'run_events', 'run_output'] as const;
export type PrunedTable = (typeof PRUNED_TABLES)[number];
export type RowCounts = Record<PrunedTable, number>;

export function noRows(): RowCounts {
  return { events: 0, messages: 0, run_events: 0, run_output: 0 };
}

/** Rows per query: under SQLite's bound-parameter limit, and short write locks. */
const BATCH = 200;

/**
 * Tasks untouched since `cutoff` that still hold something gc may prune: a
 * run whose output is not yet removed, or board events or messages from
 * before the cutoff. Whether each is finished is gc's policy, not this query's.
 */
export async function pruneCandidates(db: Kysely<DB>, cutoff: number): Promise<number[]> {
  const rows = await db
    .selectFrom('tasks as t')
    .select('t.id')
    .where('t.updated_at', '<=', cutoff)
    .where((eb) =>
      eb.or([
        eb.exists(
          eb
            .selectFrom('runs as r')
            .select('r.id')
            .whereRef('r.task_id', '=', 't.id')
            .where('r.output_removed_at', 'is', null),
        ),
        eb.exists(
          eb
            .selectFrom('events as e')
            .select('e.id')
            .whereRef('e.task_id', '=', 't.id')
            .where('e.created_at', '<=', cutoff),
        ),
        eb.exists(
          eb
            .selectFrom('messages as m')
            .select('m.id')
            .whereRef('m.task_id', '=', 't.id')
            .where('m.created_at', '<=', cutoff),
        ),
      ]),
    )
    .orderBy('t.id')
    .execute();
  return rows.map((r) => Number(r.id));
}

/**
 * Locks these task rows until commit (PostgreSQL; a SQLite transaction holds
 * the write lock already). Starting a run updates its task's row, so once
 * locked, no task here can gain an active run before the prune commits.
 */
export async function lockTasks(tx: Tx, taskIds: number[]): Promise<void> {
  if (taskIds.length === 0) return;
  await tx.dialect
    .lockForUpdate(tx.db.selectFrom('tasks').select('id').where('id', 'in', taskIds))
    .execute();
}

export interface PruneTarget {
  /** Tasks whose board events and messages from before `cutoff` go. */
  taskIds: number[];
  /** Runs whose whole transcript and shipped output go. */
  runIds: string[];
  cutoff: number;
}

export interface PruneResult {
  rows: RowCounts;
  /** The highest event id removed (0: none): a feed cursor below it missed events. */
  eventsThrough: number;
  /** The highest message id removed (0: none). */
  messagesThrough: number;
  /** Runs whose output was removed now (runs removed by an earlier gc are not counted again). */
  runs: number;
}

/** Deletes (or with `dryRun` counts) the target's rows, in the caller's transaction. */
export async function pruneRows(tx: Tx, t: PruneTarget, dryRun: boolean): Promise<PruneResult> {
  const out: PruneResult = { rows: noRows(), eventsThrough: 0, messagesThrough: 0, runs: 0 };
  const db = tx.db;
  for (let i = 0; i < t.taskIds.length; i += BATCH) {
    const ids = t.taskIds.slice(i, i + BATCH);
    for (const table of ['events', 'messages'] as const) {
      const where = sql`task_id in (${sql.join(ids)}) and created_at <= ${t.cutoff}`;
      const r = await sql<{
        n: number;
        top: number | null;
      }>`select count(*) as n, max(id) as top from ${sql.table(table)} where ${where}`.execute(db);
      const n = Number(r.rows[0]?.n ?? 0);
      if (n === 0) continue;
      out.rows[table] += n;
      const top = Number(r.rows[0]?.top ?? 0);
      if (table === 'events') out.eventsThrough = Math.max(out.eventsThrough, top);
      else out.messagesThrough = Math.max(out.messagesThrough, top);
      if (!dryRun) await sql`delete from ${sql.table(table)} where ${where}`.execute(db);
    }
  }
  for (let i = 0; i < t.runIds.length; i += BATCH) {
    const kept = await db
      .selectFrom('runs')
      .select('id')
      .where('id', 'in', t.runIds.slice(i, i + BATCH))
      .where('output_removed_at', 'is', null)
      .execute();
    const ids = kept.map((r) => r.id);
    if (ids.length === 0) continue;
    out.runs += ids.length;
    for (const table of ['run_events', 'run_output'] as const) {
      if (dryRun) {
        const r = await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('run_id', 'in', ids)
          .executeTakeFirst();
        out.rows[table] += Number(r?.n ?? 0);
      } else {
        const r = await db.deleteFrom(table).where('run_id', 'in', ids).executeTakeFirst();
        out.rows[table] += Number(r.numDeletedRows);
      }
    }
    if (!dryRun) await markOutputRemoved(tx, ids);
  }
  return out;
}

/** Records that these runs' logs and transcripts are gone (the first removal's time is kept). */
export async function markOutputRemoved(tx: Tx, runIds: string[]): Promise<void> {
  for (let i = 0; i < runIds.length; i += BATCH) {
    await tx.db
      .updateTable('runs')
      .set({ output_removed_at: tx.now })
      .where('id', 'in', runIds.slice(i, i + BATCH))
      .where('output_removed_at', 'is', null)
      .execute();
  }
}

/** When gc removed the run's output; null while it is kept (or the run does not exist). */
export async function outputRemovedAt(db: Kysely<DB>, runId: string): Promise<number | null> {
  const r = await db
    .selectFrom('runs')
    .select('output_removed_at')
    .where('id', '=', runId)
    .executeTakeFirst();
  return r?.output_removed_at == null ? null : Number(r.output_removed_at);
}

export interface SpaceReport {
  /**
   * `incremental`: freed pages returned in small steps (auto_vacuum is
   * INCREMENTAL); `full`: one VACUUM that also switched the file to
   * incremental; `none`: nothing to return; `autovacuum`: PostgreSQL's own;
   * `skipped`: another process held the lock.
   */
  mode: 'incremental' | 'full' | 'none' | 'autovacuum' | 'skipped';
  reason: string;
  /** The database file before and after (SQLite; 0 on PostgreSQL). */
  bytesBefore: number;
  bytesAfter: number;
  ms: number;
}

/** Pages per incremental_vacuum step: about 4 MB, a few ms of write lock. */
const VACUUM_STEP = 1000;

/**
 * Gives the pages freed by pruning back to the file system. SQLite keeps
 * freed pages for reuse, so the file never shrinks unless asked. A VACUUM
 * rewrites the whole file under the write lock, and better-sqlite3 runs it on
 * the event loop, so it is done once, to switch the file to incremental
 * auto-vacuum; from then on freed pages are released in small steps, each its
 * own short write, with the event loop turning between them. Measured on 10k
 * runs' worth of rows (500 MB, 80% pruned): the VACUUM took 2.6 s for the
 * 100 MB left, the process frozen throughout; returning 400 MB incrementally
 * took 27 s, the longest stall 103 ms. `allowFull` is false inside the server. PostgreSQL's
 * autovacuum already reclaims the dead rows of a large delete (its threshold
 * is a fraction of the table); a VACUUM from here would not shrink the files
 * either, and VACUUM FULL would lock every table the workers write.
 */
export async function returnSpace(store: Store, o: { allowFull: boolean }): Promise<SpaceReport> {
  const started = performance.now();
  if (store.dialect.reclaimsSpace) {
    return {
      mode: 'autovacuum',
      reason: 'PostgreSQL: autovacuum reclaims the deleted rows for reuse',
      bytesBefore: 0,
      bytesAfter: 0,
      ms: 0,
    };
  }
  const db = store.db;
  const pragma = async (name: string) =>
    Number(Object.values((await sql.raw(`pragma ${name}`).execute(db)).rows[0] ?? {})[0] ?? 0);
  const pageSize = await pragma('page_size');
  const bytesBefore = (await pragma('page_count')) * pageSize;
  const report = (mode: SpaceReport['mode'], reason: string, bytesAfter: number) => ({
    mode,
    reason,
    bytesBefore,
    bytesAfter,
    ms: Math.round(performance.now() - started),
  });
  if ((await pragma('freelist_count')) === 0)
    return report('none', 'no free pages in the file', bytesBefore);
  try {
    if ((await pragma('auto_vacuum')) === 2) {
      while ((await pragma('freelist_count')) > 0) {
        await sql.raw(`pragma incremental_vacuum(${VACUUM_STEP})`).execute(db);
        await new Promise((r) => setImmediate(r));
      }
      await checkpoint(db);
      return report(
        'incremental',
        'auto_vacuum is incremental: freed pages released in steps of 4 MB',
        (await pragma('page_count')) * pageSize,
      );
    }
    if (!o.allowFull) {
      return report(
        'skipped',
        'the file is not incremental yet, and the one VACUUM that makes it so would hold this process and the write lock while it runs: run `agentboard gc` once; until then new rows reuse the freed pages',
        bytesBefore,
      );
    }
    await sql.raw('pragma auto_vacuum = incremental').execute(db);
    await sql.raw('vacuum').execute(db);
    await checkpoint(db);
    return report(
      'full',
      'one VACUUM switched the file to incremental auto-vacuum; later gcs release pages in steps',
      (await pragma('page_count')) * pageSize,
    );
  } catch (e) {
    const code = (e as { code?: string }).code ?? '';
    if (!code.startsWith('SQLITE_BUSY') && !code.startsWith('SQLITE_LOCKED')) throw e;
    return report(
      'skipped',
      'another connection held the database: the freed pages are reused by new rows; the next gc returns them',
      bytesBefore,
    );
  }
}

/**
 * Moves the WAL into the file, which shrinks it, and empties the WAL (a
 * VACUUM writes the whole file there). It waits for readers briefly, not for
 * the connection's full busy timeout: a reader in the way only delays this
 * to the next automatic checkpoint.
 */
async function checkpoint(db: Kysely<DB>): Promise<void> {
  await db.connection().execute(async (conn) => {
    const r = await sql.raw('pragma busy_timeout').execute(conn);
    const timeout = Number(Object.values(r.rows[0] ?? {})[0] ?? 5000);
    await sql.raw('pragma busy_timeout = 200').execute(conn);
    try {
      await sql.raw('pragma wal_checkpoint(truncate)').execute(conn);
    } finally {
      await sql.raw(`pragma busy_timeout = ${Math.trunc(timeout)}`).execute(conn);
    }
  });
}
