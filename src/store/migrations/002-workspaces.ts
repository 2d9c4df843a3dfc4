import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Task workspaces (a git worktree per task), the commits each run started
 * from and ended at, and durable timestamps for maintenance jobs (gc).
 */
export const workspaces: Migration = {
  version: 2,
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('workspaces')
      .addColumn('task_id', 'bigint', (c) => c.primaryKey().references('tasks.id'))
      .addColumn('repo', 'text', (c) => c.notNull())
      .addColumn('path', 'text', (c) => c.notNull())
      .addColumn('branch', 'text', (c) => c.notNull())
      .addColumn('base_branch', 'text', (c) => c.notNull())
      .addColumn('base_commit', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .addColumn('merged_at', 'bigint')
      .addColumn('merge_commit', 'text')
      .addColumn('discarded_at', 'bigint')
      .addColumn('removed_at', 'bigint')
      .execute();
    // One statement per column: SQLite's ALTER TABLE adds one at a time.
    for (const column of ['workdir', 'commit_before', 'commit_after']) {
      await db.schema.alterTable('runs').addColumn(column, 'text').execute();
    }
    await db.schema
      .createTable('maintenance')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('last_run_at', 'bigint', (c) => c.notNull())
      .addColumn('summary', 'text')
      .execute();
  },
};
