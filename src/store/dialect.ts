/**
 * What differs between a SQLite board and a PostgreSQL one, in one place.
 * Code elsewhere asks a question of the store's dialect (`store.dialect`,
 * `tx.dialect`) instead of testing its name, so each difference is written
 * and explained once, here.
 */
import { type Kysely, sql } from 'kysely';
import type { Dialect as DialectName } from './migrations/index.js';
import type { DB } from './schema.js';

/** A query that can lock the rows it reads (Kysely's select builder). */
interface Lockable<Q> {
  forUpdate(): Q;
  forShare(): Q;
}

export interface SqlDialect {
  readonly name: DialectName;
  /**
   * Workers may run on several hosts. So a run's output is shipped to the
   * database (the log file is on the worker's host), a lease's next holder
   * may be elsewhere (a run's end is retried rather than left to the local
   * reconciler; the watchdog kills an agent whose lease it cannot renew),
   * and "no worker here" does not mean "no worker".
   */
  readonly multiHost: boolean;
  /**
   * Leases and heartbeats are timed by the database's clock, the one every
   * host shares (see Store.leaseNow). SQLite: one host, its own clock.
   */
  readonly databaseClock: boolean;
  /**
   * Commits are announced to other processes (LISTEN/NOTIFY) from inside
   * the transaction; SQLite's are noticed by polling data_version.
   */
  readonly notifiesCommits: boolean;
  /**
   * Statements may modify data inside WITH: a claim takes its lease token
   * and the run in one round trip, which matters where each round trip is
   * spent holding the claim lock.
   */
  readonly writableCte: boolean;
  /** The database reclaims deleted rows itself (autovacuum); SQLite needs a VACUUM. */
  readonly reclaimsSpace: boolean;
  /** Appended to a hot claim query: skip rows another writer holds (PostgreSQL). */
  readonly skipLocked: string;
  /**
   * Locks the rows `q` reads until commit. SQLite's BEGIN IMMEDIATE already
   * holds the write lock for the whole transaction: unchanged there.
   */
  lockForUpdate<Q extends Lockable<Q>>(q: Q): Q;
  /** Keeps the rows `q` reads from changing until commit (see lockForUpdate). */
  lockForShare<Q extends Lockable<Q>>(q: Q): Q;
  /**
   * Serialises transactions across processes on `key` until commit
   * (PostgreSQL's advisory lock). A no-op on SQLite, whose writers already
   * take turns.
   */
  transactionLock(db: Kysely<DB>, key: number): Promise<void>;
  /** Hot-path SQL text written with `?` placeholders, in this dialect's form. */
  placeholders(text: string): string;
}

export const SQLITE: SqlDialect = {
  name: 'sqlite',
  multiHost: false,
  databaseClock: false,
  notifiesCommits: false,
  writableCte: false,
  reclaimsSpace: false,
  skipLocked: '',
  lockForUpdate: (q) => q,
  lockForShare: (q) => q,
  transactionLock: async () => {},
  placeholders: (text) => text,
};

const pgText = new Map<string, string>();

export const POSTGRES: SqlDialect = {
  name: 'postgres',
  multiHost: true,
  databaseClock: true,
  notifiesCommits: true,
  writableCte: true,
  reclaimsSpace: true,
  skipLocked: ' for update skip locked',
  lockForUpdate: (q) => q.forUpdate(),
  lockForShare: (q) => q.forShare(),
  transactionLock: async (db, key) => {
    await sql`select pg_advisory_xact_lock(${sql.lit(key)})`.execute(db);
  },
  placeholders(text) {
    let out = pgText.get(text);
    if (out === undefined) {
      let n = 0;
      out = text.replace(/\?/g, () => `$${++n}`);
      pgText.set(text, out);
    }
    return out;
  },
};

/** The advisory-lock keys (transactionLock): one per kind of work that must not overlap. */
export const LOCK_KEYS = {
  migrate: 4317001,
  claim: 4317002,
  heartbeats: 4317004,
} as const;
