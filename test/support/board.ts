/** Shared fixtures for tests that open a board: config, a settable clock. Not a test file. */

import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { type App, openApp } from '../../src/app/context.js';
import { type Config, configSchema } from '../../src/config/schema.js';
import type { Clock } from '../../src/store/store.js';
import { tempDir } from './tmp.js';

/** A clock the test moves by hand (its timers too). Starts at a fixed instant so runs are reproducible. */
export { ManualClock as FakeClock } from './manual-clock.js';

/**
 * A valid config with two `command` agents (running `true`), autostart on and
 * short backoffs. `extra` is merged into the raw (pre-parse) config.
 */
export function testConfig(extra: Record<string, unknown> = {}): Config {
  const raw: Record<string, unknown> = {
    agents: {
      bot: { kind: 'command', command: 'true', max_concurrency: 2 },
      helper: { kind: 'command', command: 'true', max_concurrency: 1 },
    },
    defaults: {
      max_attempts: 3,
      backoff: { base: '1s', factor: 2, max: '8s', jitter: 0.5 },
    },
    board: { autostart: true, max_concurrency: 3 },
  };
  for (const [k, v] of Object.entries(extra)) {
    const base = raw[k];
    raw[k] =
      base && typeof base === 'object' && v && typeof v === 'object' && !Array.isArray(v)
        ? { ...(base as object), ...(v as object) }
        : v;
  }
  return configSchema.parse(raw);
}

export interface BoardLocation {
  dialect: 'sqlite' | 'postgres';
  /** Opens (or re-opens) the same board. */
  open(o?: { config?: Config; clock?: Clock; random?: () => number }): Promise<App>;
  /** Runs one SQL statement on the database directly, bypassing the store. */
  rawQuery(text: string): Promise<Record<string, unknown>[]>;
}

/** A fresh SQLite board in a temp dir. */
export function sqliteBoard(): BoardLocation {
  const home = tempDir('agentboard-board-');
  return {
    dialect: 'sqlite',
    open: (o = {}) =>
      openApp({
        env: { AGENTBOARD_HOME: home },
        config: o.config ?? testConfig(),
        ...(o.clock ? { clock: o.clock } : {}),
        random: o.random ?? (() => 0.5),
      }),
    async rawQuery(text) {
      const db = new SqliteDatabase(join(home, 'agentboard.db'));
      try {
        const stmt = db.prepare(text);
        if (stmt.reader) return stmt.all() as Record<string, unknown>[];
        stmt.run();
        return [];
      } finally {
        db.close();
      }
    },
  };
}

/** A fresh PostgreSQL board: `databaseUrl` names an empty database. */
export function postgresBoard(databaseUrl: string): BoardLocation {
  const home = tempDir('agentboard-board-');
  return {
    dialect: 'postgres',
    open: (o = {}) =>
      openApp({
        env: { AGENTBOARD_HOME: home, AGENTBOARD_DATABASE_URL: databaseUrl },
        config: o.config ?? testConfig(),
        ...(o.clock ? { clock: o.clock } : {}),
        random: o.random ?? (() => 0.5),
      }),
    async rawQuery(text) {
      const client = new pg.Client({ connectionString: databaseUrl });
      await client.connect();
      try {
        return (await client.query(text)).rows;
      } finally {
        await client.end();
      }
    },
  };
}

/** Every row the services write, in a stable order: equal snapshots mean "nothing changed". */
export async function snapshot(app: App): Promise<string> {
  const db = app.store.db;
  const tasks = await db.selectFrom('tasks').selectAll().orderBy('id').execute();
  const runs = await db.selectFrom('runs').selectAll().orderBy('id').execute();
  const deps = await db
    .selectFrom('task_dependencies')
    .selectAll()
    .orderBy('task_id')
    .orderBy('depends_on_id')
    .execute();
  const comments = await db.selectFrom('comments').selectAll().orderBy('id').execute();
  const events = await db.selectFrom('events').selectAll().orderBy('id').execute();
  const counters = await db.selectFrom('counters').selectAll().orderBy('name').execute();
  return JSON.stringify({ tasks, runs, deps, comments, events, counters });
}
