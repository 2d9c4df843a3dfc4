import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { initial } from '../../src/store/migrations/001-initial.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { listSchedules, ticksOf } from '../../src/store/schedules.js';
import { Store } from '../../src/store/store.js';
import { tempDir } from '../support/tmp.js';

test('a database at schema 1 with a schedule is upgraded by migration 004, its rows kept', async () => {
  const file = join(tempDir('agentboard-migrate-'), 'agentboard.db');
  const raw = new SqliteDatabase(file);
  const db = new Kysely<unknown>({ dialect: new SqliteDialect({ database: raw }) });
  await initial.up(db, 'sqlite');
  raw.exec(`
    create table schema_version (version integer primary key, applied_at bigint not null);
    insert into schema_version values (1, 1);
    insert into schedules (cron, agent, prompt, catch_up, catch_up_window_ms, overlap, created_at)
      values ('0 9 * * *', 'bot', 'old', 'latest', 3600000, 'skip', 1);
    insert into schedule_ticks (schedule_id, tick_at, created_at) values (1, 1000, 1);
  `);
  await db.destroy();

  const store = await Store.open({ sqliteFile: file });
  try {
    const versions = await store.db.selectFrom('schema_version').select('version').execute();
    assert.deepEqual(
      versions.map((v) => Number(v.version)).sort((a, b) => a - b),
      MIGRATIONS.map((m) => m.version),
    );
    assert.ok(MIGRATIONS.some((m) => m.version === 4));
    const [s] = await listSchedules(store.db);
    assert.equal(s?.prompt, 'old');
    assert.equal(s?.heartbeat, 0);
    assert.equal(s?.title, null);
    const [tick] = await ticksOf(store.db, 1);
    assert.equal(tick?.outcome, 'run', 'ticks recorded before 004 had a run');
    // One heartbeat per agent, enforced by the database.
    const hb = (id: number) =>
      store.db
        .insertInto('schedules')
        .values({
          id,
          cron: '0 * * * *',
          agent: 'bot',
          prompt: '',
          catch_up: 'latest',
          catch_up_window_ms: 0,
          overlap: 'skip',
          created_at: 1,
          heartbeat: 1,
          enabled: 1,
          timezone: null,
          task_id: null,
          last_tick_at: null,
          title: null,
        } as never)
        .execute();
    await hb(10);
    await assert.rejects(hb(11), /UNIQUE constraint failed/);
  } finally {
    await store.close();
  }
});
