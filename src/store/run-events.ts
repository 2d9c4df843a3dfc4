import type { Kysely } from 'kysely';
import type { AgentEvent } from '../agents/events.js';
import type { DB } from './schema.js';
import type { Tx } from './store.js';

export interface StoredRunEvent {
  seq: number;
  createdAt: number;
  event: AgentEvent;
}

export async function insertRunEvents(
  tx: Tx,
  runId: string,
  firstSeq: number,
  events: AgentEvent[],
): Promise<void> {
  // Batched to stay under SQLite's bound-parameter limit.
  for (let i = 0; i < events.length; i += 100) {
    await tx.db
      .insertInto('run_events')
      .values(
        events.slice(i, i + 100).map((e, j) => ({
          run_id: runId,
          seq: firstSeq + i + j,
          type: e.type,
          data: JSON.stringify(e),
          created_at: tx.now,
        })),
      )
      .execute();
  }
}

/** Events after `afterSeq` (0 = from the start), in order: the cursor is the last seq seen. */
export async function readRunEvents(
  db: Kysely<DB>,
  runId: string,
  opts: { afterSeq: number; limit: number; types?: string[] },
): Promise<StoredRunEvent[]> {
  let q = db
    .selectFrom('run_events')
    .selectAll()
    .where('run_id', '=', runId)
    .where('seq', '>', opts.afterSeq);
  if (opts.types && opts.types.length > 0) q = q.where('type', 'in', opts.types);
  const rows = await q.orderBy('seq').limit(opts.limit).execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    createdAt: Number(r.created_at),
    event: JSON.parse(r.data) as AgentEvent,
  }));
}

/** The latest stored event of one of these types, e.g. the agent's final result. */
export async function lastRunEvent(
  db: Kysely<DB>,
  runId: string,
  types: string[],
): Promise<AgentEvent | undefined> {
  const r = await db
    .selectFrom('run_events')
    .select('data')
    .where('run_id', '=', runId)
    .where('type', 'in', types)
    .orderBy('seq', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r && (JSON.parse(r.data) as AgentEvent);
}
