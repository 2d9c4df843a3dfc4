import type { Kysely } from 'kysely';
import { initial } from './001-initial.js';
import { workspaces } from './002-workspaces.js';
import { workers } from './003-workers.js';
import { schedules } from './004-schedules.js';
import { runTruth } from './005-run-truth.js';
import { outputRemoved } from './006-output-removed.js';
import { runApiToken } from './007-run-api-token.js';
import { approvalsTables } from './008-approvals.js';
import { reviewTables } from './009-review.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

/**
 * Every migration, in order. Append only: a released migration never changes.
 * Versions may have gaps (branches claim numbers ahead of merging); `migrate`
 * applies each version the database has not recorded, so a gap filled later
 * is still applied.
 */
export const MIGRATIONS: readonly Migration[] = [
  initial,
  workspaces,
  workers,
  schedules,
  runTruth,
  outputRemoved,
  runApiToken,
  approvalsTables,
  reviewTables,
];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
