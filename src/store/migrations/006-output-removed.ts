import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * When gc removed a run's logs and transcript, so a reader is told "removed
 * by gc on <date>" instead of being shown an empty log.
 */
export const outputRemoved: Migration = {
  version: 6,
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('runs').addColumn('output_removed_at', 'bigint').execute();
  },
};
