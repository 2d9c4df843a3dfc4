import type { ColumnDefinitionBuilder, Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Code review of a task's branch (issue 18): reviews, the line comments
 * gathered into them (a draft has no review yet), and where the branch was
 * pushed and the pull request it was opened as, one row per task.
 *
 * Rows name their task and run without foreign keys: deleting a task (or gc
 * pruning a run) must not be refused because a review mentions it.
 */
export const reviewTables: Migration = {
  version: 9,
  async up(db: Kysely<unknown>, dialect) {
    const serial = dialect === 'postgres' ? 'serial' : 'integer';
    const autoInc = dialect === 'sqlite';
    const id = (c: ColumnDefinitionBuilder) =>
      autoInc ? c.primaryKey().autoIncrement() : c.primaryKey();

    await db.schema
      .createTable('reviews')
      .addColumn('id', serial, id)
      .addColumn('task_id', 'bigint', (c) => c.notNull())
      .addColumn('verdict', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('reviewed_commit', 'text')
      .addColumn('run_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('reviews_task').on('reviews').columns(['task_id', 'id']).execute();

    await db.schema
      .createTable('review_comments')
      .addColumn('id', serial, id)
      .addColumn('task_id', 'bigint', (c) => c.notNull())
      .addColumn('review_id', 'bigint', (c) => c.references('reviews.id'))
      .addColumn('file', 'text', (c) => c.notNull())
      .addColumn('line', 'integer', (c) => c.notNull())
      .addColumn('side', 'text', (c) => c.notNull())
      .addColumn('quote', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('review_comments_task')
      .on('review_comments')
      .columns(['task_id', 'review_id', 'id'])
      .execute();

    await db.schema
      .createTable('pull_requests')
      .addColumn('task_id', 'bigint', (c) => c.primaryKey())
      .addColumn('branch', 'text', (c) => c.notNull())
      .addColumn('remote', 'text')
      .addColumn('pushed_commit', 'text')
      .addColumn('pushed_at', 'bigint')
      .addColumn('url', 'text')
      .addColumn('opened_at', 'bigint')
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
  },
};
