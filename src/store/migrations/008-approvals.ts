import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/** Approval requests and task rules (issue 18). */
export const approvalsTables: Migration = {
  version: 8,
  async up(_db: Kysely<unknown>) {},
};
