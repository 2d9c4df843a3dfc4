import { type Kysely, sql } from 'kysely';
import type { Migration } from './index.js';

/**
 * Schedules, complete: a title for the tasks they create, the flag marking an
 * agent's heartbeat (one per agent, enforced by the database), and what each
 * recorded tick did (`run`, `skipped`, `waiting` its turn, `idle`).
 */
export const schedules: Migration = {
  version: 4,
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('schedules').addColumn('title', 'text').execute();
    await db.schema
      .alterTable('schedules')
      .addColumn('heartbeat', 'integer', (c) => c.notNull().defaultTo(0))
      .execute();
    await sql`create unique index schedules_heartbeat on schedules (agent) where heartbeat = 1`.execute(
      db,
    );
    await db.schema
      .alterTable('schedule_ticks')
      .addColumn('outcome', 'text', (c) => c.notNull().defaultTo('run'))
      .execute();
    await db.schema.alterTable('schedule_ticks').addColumn('reason', 'text').execute();
    await sql`create index schedule_ticks_waiting on schedule_ticks (schedule_id, tick_at) where outcome = 'waiting'`.execute(
      db,
    );
    await db.schema
      .createIndex('schedule_ticks_task')
      .on('schedule_ticks')
      .columns(['task_id'])
      .execute();
  },
};
