import { sql } from 'kysely';
import type { Tx } from './store.js';

/**
 * Next value of a named counter, allocated inside the caller's transaction.
 * The row lock it takes is held to commit, so values are gap-free and handed
 * out in commit order (what SSE resume by event id relies on).
 */
export async function nextValue(tx: Tx, name: string): Promise<number> {
  const r = await sql<{ value: number }>`
    insert into counters (name, value) values (${name}, 1)
    on conflict (name) do update set value = counters.value + 1
    returning value`.execute(tx.db);
  const row = r.rows[0];
  if (!row) throw new Error(`counter ${name} returned no row`);
  return Number(row.value);
}
