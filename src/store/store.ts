import crypto from 'node:crypto';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PostgresDialect,
  type QueryResult,
  type RootOperationNode,
  SqliteDialect,
  sql,
  type UnknownRow,
} from 'kysely';
import pg from 'pg';
import { type Clock, systemClock } from '../domain/clock.js';
import { StoreError } from '../domain/errors.js';
import { Checkpointer } from './checkpointer.js';
import { POSTGRES, SQLITE, type SqlDialect } from './dialect.js';
import type { EventRecord } from './events.js';
import { GroupCommit } from './group-commit.js';
import { registerHandle } from './hot-sql.js';
import { migrate } from './migrate.js';
import { EVENTS_CHANNEL, encodeNotice, PgListener } from './pg-listener.js';
import type { DB } from './schema.js';
import { withStatementCache } from './statement-cache.js';
import { isBusy, storeFault, writeLockHolder } from './store-faults.js';

/** Moved to the domain (it owns timers now); re-exported for the imports that name it here. */
export { type Clock, systemClock };

/** One unit of work: a connection inside a transaction, plus the events it appends. */
export interface Tx {
  db: Kysely<DB>;
  now: number;
  events: EventRecord[];
  dialect: SqlDialect;
  /** Leases are timed by the database's clock (PostgreSQL, shared by every host): see leaseNow. */
  dbClock?: boolean;
}

export interface OpenStoreOptions {
  /** SQLite file; ignored when `databaseUrl` is set. */
  sqliteFile?: string;
  databaseUrl?: string;
  clock?: Clock;
  /** How long a write waits for another process's write lock before it is refused (store_busy). */
  writeWaitMs?: number;
}

/**
 * SQLite's own wait for a lock. better-sqlite3 is synchronous: while SQLite
 * waits, the whole process waits, health checks and reads included. So it
 * waits only a few milliseconds, and a longer wait happens in tx(), between
 * attempts, with the event loop free (WAL lets reads go on meanwhile).
 */
const SQLITE_BUSY_TIMEOUT_MS = 5;
/** The default of OpenStoreOptions.writeWaitMs: about what a request may take before the user gives up. */
export const WRITE_WAIT_MS = 5000;
/**
 * The wait at open (migrations take the write lock): a server starting
 * beside a process that stalls in a transaction (stopped, swapping) should
 * not give up as soon as a request would.
 */
const OPEN_WRITE_WAIT_MS = 30_000;
/** Pauses between attempts at a locked database: short at first, capped. */
const BUSY_PAUSE_MIN_MS = 2;
const BUSY_PAUSE_MAX_MS = 100;

/**
 * The SQLite file holds prompts, transcripts and comments: the owner's only.
 * Created 0600 before SQLite opens it, and SQLite gives its -wal and -shm
 * files the database file's mode (it fchmods them to match, whatever the
 * umask). A file left looser by an older version is tightened, with any
 * -wal/-shm it left behind. (":memory:" and "" are not files.)
 */
function makePrivate(file: string): void {
  if (file === ':memory:' || file === '') return;
  fs.closeSync(fs.openSync(file, 'a', 0o600));
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((fs.statSync(f).mode & 0o077) !== 0) fs.chmodSync(f, 0o600);
    } catch {
      // absent, or not ours to change: SQLite will say if it cannot open it
    }
  }
}

/**
 * The durable store. `tx()` is the only way to write: it commits the changes
 * and their event rows together, then tells in-process listeners about the
 * events (dispatcher, SSE). Listeners are a wake-up only; the rows are the truth.
 */
export class Store {
  /**
   * `events`: this process committed them. `external`: another process
   * committed a transaction with events of these types (PostgreSQL
   * LISTEN/NOTIFY); `listener`: the LISTEN connection went up or down.
   */
  readonly changes = new EventEmitter<{
    events: [EventRecord[]];
    external: [string[]];
    listener: ['up' | 'down'];
  }>();
  private closed = false;
  private readonly grouped = new GroupCommit((fn) => this.tx(fn));
  /** Tells this process's notifications from other processes'. */
  private readonly origin = crypto.randomBytes(6).toString('hex');
  private listener: PgListener | null = null;
  private databaseUrl: string | null = null;
  private sqliteFile: string | null = null;
  private checkpointer: Checkpointer | null = null;
  private writeWaitMs = WRITE_WAIT_MS;

  private constructor(
    readonly db: Kysely<DB>,
    readonly dialect: SqlDialect,
    readonly clock: Clock,
    readonly sqlite: SqliteDatabase.Database | null,
    readonly pool: pg.Pool | null,
    private readonly guard: ClosedGuard,
  ) {
    this.changes.setMaxListeners(0);
    registerHandle(db, dialect);
  }

  /** The PostgreSQL URL this store was opened with; null on SQLite. */
  connectionUrl(): string | null {
    return this.databaseUrl;
  }

  static async open(opts: OpenStoreOptions): Promise<Store> {
    const clock = opts.clock ?? systemClock;
    const guard = new ClosedGuard();
    let store: Store;
    if (opts.databaseUrl) {
      pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
      pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
      // A database that does not answer must not hang a worker forever: it
      // stops claiming and retries (see the dispatcher and lease renewal).
      const pool = new pg.Pool({
        connectionString: opts.databaseUrl,
        max: 10,
        connectionTimeoutMillis: 5000,
        keepAlive: true,
      });
      // A dropped connection must not crash the process; the next query reconnects.
      // The pool listens on idle clients only: a client checked out (inside a
      // transaction) when the server goes away would otherwise emit an
      // unhandled 'error' and kill the worker. Its query fails instead, and
      // the pool discards it on release.
      pool.on('error', () => {});
      pool.on('connect', (client) => client.on('error', () => {}));
      const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }), plugins: [guard] });
      store = new Store(db, POSTGRES, clock, null, pool, guard);
      store.databaseUrl = opts.databaseUrl;
    } else {
      const file = opts.sqliteFile;
      if (!file) throw new StoreError('store_config', 'no SQLite file and no database URL given');
      let sqlite: SqliteDatabase.Database;
      try {
        fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
        makePrivate(file);
        sqlite = new SqliteDatabase(file, { timeout: SQLITE_BUSY_TIMEOUT_MS });
        await enableWal(sqlite);
        sqlite.pragma('synchronous = NORMAL');
        sqlite.pragma('foreign_keys = ON');
      } catch (e) {
        throw storeFault(e, { file, fileErrors: true }) ?? e;
      }
      const db = new Kysely<DB>({
        dialect: new SqliteDialect({ database: withStatementCache(sqlite) }),
        plugins: [guard],
      });
      store = new Store(db, SQLITE, clock, sqlite, null, guard);
      store.sqliteFile = file;
      store.checkpointer = new Checkpointer(sqlite, file);
    }
    store.writeWaitMs = Math.max(OPEN_WRITE_WAIT_MS, opts.writeWaitMs ?? 0);
    try {
      await migrate(store);
    } catch (e) {
      await store.close();
      throw e;
    }
    store.writeWaitMs = opts.writeWaitMs ?? WRITE_WAIT_MS;
    return store;
  }

  /**
   * Runs `fn` in one transaction. On SQLite it is BEGIN IMMEDIATE (the write
   * lock is taken up front, so two writers never deadlock on an upgrade). A
   * database locked by another process is tried again, asynchronously, for up
   * to writeWaitMs, then refused as store_busy. A full disk or a read-only
   * database is reported at once (store_full, store_read_only), naming the
   * path and what to do; the caller decides whether to try again.
   */
  async tx<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) throw closedError();
    const deadline = performance.now() + this.writeWaitMs;
    for (let attempt = 1; ; attempt++) {
      const events: EventRecord[] = [];
      try {
        const result = await this.runInTransaction(events, fn);
        if (events.length > 0) this.changes.emit('events', events);
        return result;
      } catch (e) {
        const left = deadline - performance.now();
        if (!isBusy(e) || left <= 0) throw this.fault(e);
        await sleep(Math.min(left, busyPause(attempt)));
        if (this.closed) throw closedError();
      }
    }
  }

  /** `e` as a typed store fault (busy, full, read-only) when it is one, else `e` itself. */
  private fault(e: unknown): unknown {
    if (e instanceof StoreError) return e;
    const file = this.sqliteFile;
    return storeFault(e, file ? { file, holder: () => writeLockHolder(file) } : {}) ?? e;
  }

  /**
   * Like tx(), but may share its transaction with other writes requested in
   * the same turn of the event loop (see GroupCommit): for the engine's
   * frequent small records. `fn` must not depend on running alone.
   */
  txGrouped<T>(fn: (tx: Tx) => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    return this.grouped.run(fn);
  }

  private async runInTransaction<T>(events: EventRecord[], fn: (tx: Tx) => Promise<T>): Promise<T> {
    const now = this.clock.now();
    if (this.dialect.notifiesCommits) {
      const dbClock = this.clock === systemClock;
      return this.db.transaction().execute(async (trx) => {
        registerHandle(trx, this.dialect);
        const result = await fn({ db: trx, now, events, dialect: this.dialect, dbClock });
        // Delivered to every LISTENer at commit, never for a rollback: a
        // worker on another host wakes for exactly the committed change.
        if (events.length > 0) {
          const types = [...new Set(events.map((e) => e.type))];
          await sql`select pg_notify(${EVENTS_CHANNEL}, ${encodeNotice({ origin: this.origin, types })})`.execute(
            trx,
          );
        }
        return result;
      });
    }
    return this.db.connection().execute(async (conn) => {
      registerHandle(conn, this.dialect);
      await sql`begin immediate`.execute(conn);
      try {
        const result = await fn({ db: conn, now, events, dialect: this.dialect });
        await sql`commit`.execute(conn);
        return result;
      } catch (e) {
        await sql`rollback`.execute(conn).catch(() => {});
        throw e;
      }
    });
  }

  /**
   * A cheap token that changes whenever another connection commits (SQLite's
   * data_version). Lets a process notice writes made by other processes.
   */
  dataVersion(): number | null {
    if (!this.sqlite) return null;
    return this.sqlite.pragma('data_version', { simple: true }) as number;
  }

  /** Round-trips to the database: health checks. */
  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  /**
   * Starts LISTENing for commits by other processes (PostgreSQL only; a no-op
   * on SQLite, where dataVersion serves). Idempotent.
   */
  listen(): void {
    if (!this.databaseUrl || this.listener || this.closed) return;
    this.listener = new PgListener(this.databaseUrl, {
      notice: (n) => {
        if (n.origin !== this.origin) this.changes.emit('external', n.types);
      },
      up: () => this.changes.emit('listener', 'up'),
      down: () => this.changes.emit('listener', 'down'),
    });
  }

  /** Whether commits by other processes wake this one at once (false: poll). */
  get listening(): boolean {
    return this.listener?.connected ?? false;
  }

  /**
   * "Now" for leases and heartbeats. On PostgreSQL it is the database's clock,
   * the one clock every host shares, so a worker with a skewed clock can
   * neither expire another's lease early nor keep its own alive too long. A
   * test's own clock (or SQLite, one host) is used as is.
   */
  async leaseNow(): Promise<number> {
    if (!this.dialect.databaseClock || this.clock !== systemClock) return this.clock.now();
    const r = await sql<{ t: number }>`select ${DB_NOW} as t`.execute(this.db);
    return Number(r.rows[0]?.t);
  }

  /**
   * For a long-lived process (an engine, the API): SQLite's WAL checkpoints
   * move out of its commits, to a thread (checkpointer.ts). A no-op on
   * PostgreSQL and for short-lived processes that never call it.
   */
  startCheckpointer(): void {
    this.checkpointer?.start();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.checkpointer?.stop();
    await this.listener?.close();
    await this.db.destroy();
    // From now on a read says store_closed, not Kysely's "driver has already been destroyed".
    this.guard.closed = true;
  }
}

function closedError(): StoreError {
  return new StoreError(
    'store_closed',
    'the store is closed (the server is shutting down): retry once it is back',
  );
}

/** Refuses every query on a closed store with a typed error (the API answers 503, not 500). */
class ClosedGuard implements KyselyPlugin {
  closed = false;

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (this.closed) throw closedError();
    return args.node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Doubling from BUSY_PAUSE_MIN_MS to BUSY_PAUSE_MAX_MS, with jitter so that waiting writers spread out. */
function busyPause(attempt: number): number {
  const base = Math.min(BUSY_PAUSE_MAX_MS, BUSY_PAUSE_MIN_MS * 2 ** (attempt - 1));
  return base * (0.5 + Math.random());
}

/** The database clock in epoch milliseconds (clock_timestamp: the instant, not the tx start). */
const DB_NOW = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

/** `now + ms` on the lease clock, as an SQL expression to use inside a statement. */
export function leaseDeadlineSql(tx: Tx, ms: number) {
  return tx.dbClock ? sql<number>`${DB_NOW} + ${ms}` : sql<number>`${tx.now + ms}`;
}

/** "Now" for lease and heartbeat writes inside a transaction: see Store.leaseNow. */
export async function leaseNow(tx: Tx): Promise<number> {
  if (!tx.dbClock) return tx.now;
  const r = await sql<{ t: number }>`select ${DB_NOW} as t`.execute(tx.db);
  return Number(r.rows[0]?.t);
}

/**
 * Switches a fresh file to WAL. The switch needs the file to itself, and
 * SQLite answers "busy" at once (without its busy timeout) while another
 * process opening the same fresh board holds a lock, so it is retried.
 */
async function enableWal(sqlite: SqliteDatabase.Database): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      sqlite.pragma('journal_mode = WAL');
      return;
    } catch (e) {
      if (!isBusy(e) || attempt >= 200) throw e;
      await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
    }
  }
}
