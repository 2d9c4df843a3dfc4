import { hotQuery } from './hot-sql.js';
import type { Tx } from './store.js';

/**
 * Next value of a named counter, allocated inside the caller's transaction.
 * The row lock it takes is held to commit, so values are gap-free and handed
 * out in commit order (what SSE resume by event id relies on).
 */
export async function nextValue(tx: Tx, name: string): Promise<number> {
  const [row] = await hotQuery<{ value: number }>(
    tx.db,
    'insert into counters (name, value) values (?, 1) on conflict (name) do update set value = counters.value + 1 returning value',
    [name],
  );
  if (!row) throw new Error(`counter ${name} returned no row`);
  return Number(row.value);
}
