import type { Kysely } from 'kysely';
import { initial } from './001-initial.js';
import { workers } from './003-workers.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Migration {
  version: number;
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
}

/** Every migration, in order. Append only: a released migration never changes. */
export const MIGRATIONS: readonly Migration[] = [initial, workers];

export const LATEST_VERSION = MIGRATIONS.reduce((v, m) => Math.max(v, m.version), 0);
