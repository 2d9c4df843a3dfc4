import type { Kysely } from 'kysely';
import type { Migration } from './index.js';

/**
 * Approval requests and task rules (issue 18). A request is unique per run
 * and tool use: an agent asking again after a server crash gets its row back
 * (pending or decided) instead of a second one. Both go with their task or
 * run when it is deleted.
 */
export const approvalsTables: Migration = {
  version: 8,
  async up(db: Kysely<unknown>) {
    await db.schema
      .createTable('approvals')
      .addColumn('id', 'bigint', (c) => c.primaryKey())
      .addColumn('task_id', 'bigint', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id').onDelete('cascade'))
      .addColumn('agent', 'text', (c) => c.notNull())
      .addColumn('tool', 'text', (c) => c.notNull())
      .addColumn('input', 'text', (c) => c.notNull())
      .addColumn('tool_use_id', 'text')
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('asked_at', 'bigint', (c) => c.notNull())
      .addColumn('decided_at', 'bigint')
      .addColumn('decided_by', 'text')
      .addColumn('message', 'text')
      .addColumn('rule', 'text')
      .addUniqueConstraint('approvals_tool_use', ['run_id', 'tool_use_id'])
      .execute();
    await db.schema
      .createIndex('approvals_state')
      .on('approvals')
      .columns(['state', 'asked_at'])
      .execute();
    await db.schema
      .createIndex('approvals_task')
      .on('approvals')
      .columns(['task_id', 'asked_at'])
      .execute();

    await db.schema
      .createTable('approval_rules')
      .addColumn('id', 'bigint', (c) => c.primaryKey())
      .addColumn('task_id', 'bigint', (c) => c.notNull().references('tasks.id').onDelete('cascade'))
      .addColumn('rule', 'text', (c) => c.notNull())
      .addColumn('created_by', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addUniqueConstraint('approval_rules_task_rule', ['task_id', 'rule'])
      .execute();
  },
};
