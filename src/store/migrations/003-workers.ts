import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Workers on many hosts: a worker's own concurrency cap (shown in its
 * status), and `run_output`, the chunks of a run's stdout/stderr that a worker
 * ships to the database so the API host can read a log written elsewhere.
 */
export const workers: Migration = {
  version: 3,
  async up(db: Kysely<unknown>, dialect) {
    await db.schema.alterTable('workers').addColumn('concurrency', 'integer').execute();
    await db.schema
      .createTable('run_output')
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
      .addColumn('stream', 'text', (c) => c.notNull())
      // Byte offset of the chunk's first byte in the run's log file.
      .addColumn('offset', 'bigint', (c) => c.notNull())
      .addColumn('data', dialect === 'postgres' ? 'bytea' : 'blob', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('run_output_pk', ['run_id', 'stream', 'offset'])
      .execute();
  },
};
