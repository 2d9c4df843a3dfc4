import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * The SHA-256 of the token a run's agent calls the API with: the agent holds
 * the token, the board only its hash, and it works while the run is active.
 */
export const runApiToken: Migration = {
  version: 7,
  async up(db: Kysely<unknown>) {
    await db.schema.alterTable('runs').addColumn('api_token_hash', 'text').execute();
  },
};
