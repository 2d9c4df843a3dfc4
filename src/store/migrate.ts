import { StoreError } from '../domain/errors.js';
import { LOCK_KEYS } from './dialect.js';
import { LATEST_VERSION, MIGRATIONS } from './migrations/index.js';
import type { Store } from './store.js';

/**
 * Applies pending migrations at open, in one transaction, and refuses to touch
 * a database written by a newer agentboard.
 */
export async function migrate(store: Store): Promise<void> {
  // Up to date (every open but the first after an upgrade): a plain read, so
  // opening a board never waits for, or needs, the write lock — not when
  // another process holds it, nor on a read-only disk.
  if (await upToDate(store)) return;
  await store.tx(async ({ db, dialect, now }) => {
    // Two processes opening a fresh database at once must not both migrate it.
    await dialect.transactionLock(db, LOCK_KEYS.migrate);
    await db.schema
      .createTable('schema_version')
      .ifNotExists()
      .addColumn('version', 'integer', (c) => c.primaryKey())
      .addColumn('applied_at', 'bigint', (c) => c.notNull())
      .execute();
    const rows = await db.selectFrom('schema_version').select('version').execute();
    const applied = new Set(rows.map((r) => Number(r.version)));
    const current = Math.max(0, ...applied);
    if (current > LATEST_VERSION) {
      throw new StoreError(
        'schema_too_new',
        `the database is at schema version ${current}, newer than this agentboard understands (${LATEST_VERSION}): upgrade agentboard, or point AGENTBOARD_HOME / AGENTBOARD_DATABASE_URL at another database`,
      );
    }
    for (const m of MIGRATIONS) {
      // By set, not by the highest version: migrations developed side by side
      // may land with gaps, and one merged later must still be applied.
      if (applied.has(m.version)) continue;
      // biome-ignore lint/suspicious/noExplicitAny: migrations work on the untyped schema
      await m.up(db as any, dialect.name);
      await db
        .insertInto('schema_version')
        .values({ version: m.version, applied_at: now })
        .execute();
    }
  });
}

async function upToDate(store: Store): Promise<boolean> {
  try {
    const rows = await store.db.selectFrom('schema_version').select('version').execute();
    const applied = new Set(rows.map((r) => Number(r.version)));
    // A newer schema is refused inside the transaction, with its message.
    return (
      MIGRATIONS.every((m) => applied.has(m.version)) && Math.max(0, ...applied) <= LATEST_VERSION
    );
  } catch {
    return false; // no schema_version yet: a fresh database
  }
}
