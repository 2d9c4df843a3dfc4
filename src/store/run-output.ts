import { type Kysely, sql } from 'kysely';
import { ACTIVE_RUN_STATES } from '../domain/run.js';
import type { DB } from './schema.js';
import type { Tx } from './store.js';

export type OutputStream = 'stdout' | 'stderr';

export interface OutputChunk {
  stream: OutputStream;
  offset: number;
  data: Buffer;
}

/**
 * Stores chunks of a run's log, fenced: only the worker holding the lease
 * (`leaseToken`) may ship, and the run row is share-locked until commit so a
 * takeover cannot slip in between the check and the insert. Returns false
 * (and stores nothing) when the lease is gone. Re-shipping a chunk is a no-op.
 */
export async function insertOutputChunks(
  tx: Tx,
  runId: string,
  leaseToken: number,
  chunks: OutputChunk[],
): Promise<boolean> {
  const q = tx.db
    .selectFrom('runs')
    .select('id')
    .where('id', '=', runId)
    .where('lease_token', '=', leaseToken)
    .where('state', 'in', ACTIVE_RUN_STATES);
  if (!(await tx.dialect.lockForShare(q).executeTakeFirst())) return false;
  if (chunks.length === 0) return true;
  await tx.db
    .insertInto('run_output')
    .values(
      chunks.map((c) => ({
        run_id: runId,
        stream: c.stream,
        offset: c.offset,
        data: c.data,
        created_at: tx.now,
      })),
    )
    .onConflict((oc) => oc.columns(['run_id', 'stream', 'offset']).doNothing())
    .execute();
  return true;
}

/** How many bytes of each stream are stored: where shipping resumes after a takeover. */
export async function shippedBytes(
  db: Kysely<DB>,
  runId: string,
): Promise<Record<OutputStream, number>> {
  const rows = await db
    .selectFrom('run_output')
    .select([
      'stream',
      sql<number>`max(${sql.ref('offset')} + length(${sql.ref('data')}))`.as('end'),
    ])
    .where('run_id', '=', runId)
    .groupBy('stream')
    .execute();
  const out: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
  for (const r of rows)
    if (r.stream === 'stdout' || r.stream === 'stderr') out[r.stream] = Number(r.end);
  return out;
}

/**
 * Up to `limit` bytes of a stored stream from `offset` (chunks are contiguous
 * from 0). Shorter than asked only at the end of what is stored.
 */
export async function readOutput(
  db: Kysely<DB>,
  runId: string,
  stream: OutputStream,
  offset: number,
  limit: number,
): Promise<Buffer> {
  const rows = await db
    .selectFrom('run_output')
    .select(['offset', 'data'])
    .where('run_id', '=', runId)
    .where('stream', '=', stream)
    .where(sql<number>`${sql.ref('offset')} + length(${sql.ref('data')})`, '>', offset)
    .where('offset', '<', offset + limit)
    .orderBy('offset')
    .execute();
  const parts: Buffer[] = [];
  let at = offset;
  for (const r of rows) {
    const start = Number(r.offset);
    if (start > at) break; // a gap: never happens for chunks shipped in order
    const data = Buffer.from(r.data);
    const slice = data.subarray(
      at - start,
      Math.min(data.length, at - start + (offset + limit - at)),
    );
    parts.push(slice);
    at += slice.length;
    if (at >= offset + limit) break;
  }
  return Buffer.concat(parts);
}
