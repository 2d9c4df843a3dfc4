import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/** Review comments, reviews and pull requests (issue 18). */
export const reviewTables: Migration = {
  version: 9,
  async up(_db: Kysely<unknown>) {},
};
