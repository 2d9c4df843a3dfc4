import { type Kysely, sql } from 'kysely';
import type { Migration } from './index.js';

/** The whole schema as of the first release: tasks, runs (the queue), and the tables around them. */
export const initial: Migration = {
  version: 1,
  async up(db: Kysely<unknown>, dialect) {
    const serial = dialect === 'postgres' ? 'serial' : 'integer';
    const autoInc = dialect === 'sqlite';

    await db.schema
      .createTable('counters')
      .addColumn('name', 'text', (c) => c.primaryKey())
      .addColumn('value', 'bigint', (c) => c.notNull())
      .execute();

    await db.schema
      .createTable('tasks')
      .addColumn('id', 'bigint', (c) => c.primaryKey())
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull().defaultTo(''))
      .addColumn('status', 'text', (c) => c.notNull())
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('position', 'double precision', (c) => c.notNull())
      .addColumn('agent', 'text')
      .addColumn('labels', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('parent_id', 'bigint', (c) => c.references('tasks.id'))
      .addColumn('verify_command', 'text')
      .addColumn('loop_enabled', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('loop_max_iterations', 'integer', (c) => c.notNull().defaultTo(10))
      .addColumn('loop_delay_ms', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('loop_done_file', 'text', (c) => c.notNull().defaultTo('DONE'))
      .addColumn('max_attempts', 'integer')
      .addColumn('max_cost_usd', 'double precision')
      .addColumn('status_reason', 'text')
      .addColumn('escalated_from_run_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('updated_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('tasks_board')
      .on('tasks')
      .columns(['status', 'position', 'id'])
      .execute();
    await db.schema.createIndex('tasks_agent').on('tasks').columns(['agent', 'status']).execute();
    await db.schema.createIndex('tasks_parent').on('tasks').column('parent_id').execute();
    await db.schema.createIndex('tasks_updated').on('tasks').column('updated_at').execute();

    await db.schema
      .createTable('runs')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('task_id', 'bigint', (c) => c.notNull().references('tasks.id'))
      .addColumn('agent', 'text', (c) => c.notNull())
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('trigger', 'text', (c) => c.notNull())
      .addColumn('attempt', 'integer', (c) => c.notNull())
      .addColumn('max_attempts', 'integer', (c) => c.notNull())
      .addColumn('iteration', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('run_at', 'bigint', (c) => c.notNull())
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('prompt', 'text', (c) => c.notNull())
      .addColumn('resume_session_id', 'text')
      .addColumn('worker_id', 'text')
      .addColumn('lease_token', 'bigint')
      .addColumn('lease_expires_at', 'bigint')
      .addColumn('host', 'text')
      .addColumn('boot_id', 'text')
      .addColumn('pid', 'integer')
      .addColumn('pgid', 'integer')
      .addColumn('proc_start_time', 'bigint')
      .addColumn('exit_code', 'integer')
      .addColumn('exit_signal', 'text')
      .addColumn('error_summary', 'text')
      .addColumn('session_id', 'text')
      .addColumn('tokens_in', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('tokens_out', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('tokens_cache_read', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('tokens_cache_write', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('cost_usd', 'double precision', (c) => c.notNull().defaultTo(0))
      .addColumn('cost_source', 'text')
      .addColumn('max_cost_usd', 'double precision')
      .addColumn('model', 'text')
      .addColumn('notice', 'text')
      .addColumn('parsed_offset', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('event_count', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('cpu_ms', 'bigint')
      .addColumn('peak_rss_bytes', 'bigint')
      .addColumn('verify_exit_code', 'integer')
      .addColumn('verify_output', 'text')
      .addColumn('stalled_at', 'bigint')
      .addColumn('stop_requested_at', 'bigint')
      .addColumn('stop_reason', 'text')
      .addColumn('stop_action', 'text')
      .addColumn('last_output_at', 'bigint')
      .addColumn('output_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
      .addColumn('previous_run_id', 'text', (c) => c.references('runs.id'))
      .addColumn('parent_run_id', 'text', (c) => c.references('runs.id'))
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addColumn('claimed_at', 'bigint')
      .addColumn('started_at', 'bigint')
      .addColumn('ended_at', 'bigint')
      .execute();
    // The queue, in exactly the claim's order (priority first, then oldest):
    // a claim reads the first eligible entry instead of sorting the backlog.
    await sql`create index runs_queue on runs (state, priority desc, run_at, id)`.execute(db);
    await db.schema
      .createIndex('runs_task')
      .on('runs')
      .columns(['task_id', 'created_at'])
      .execute();
    // At most one active run per task, enforced by the database itself.
    await sql`create unique index runs_one_active on runs (task_id) where state in ('queued', 'claimed', 'running')`.execute(
      db,
    );

    // The normalized transcript, in order; (run_id, seq) is the cursor.
    await db.schema
      .createTable('run_events')
      .addColumn('run_id', 'text', (c) => c.notNull().references('runs.id'))
      .addColumn('seq', 'integer', (c) => c.notNull())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('run_events_pk', ['run_id', 'seq'])
      .execute();

    await db.schema
      .createTable('task_dependencies')
      .addColumn('task_id', 'bigint', (c) => c.notNull().references('tasks.id'))
      .addColumn('depends_on_id', 'bigint', (c) => c.notNull().references('tasks.id'))
      .addPrimaryKeyConstraint('task_dependencies_pk', ['task_id', 'depends_on_id'])
      .execute();
    await db.schema
      .createIndex('task_dependencies_reverse')
      .on('task_dependencies')
      .column('depends_on_id')
      .execute();

    await db.schema
      .createTable('comments')
      .addColumn('id', serial, (c) => (autoInc ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('task_id', 'bigint', (c) => c.notNull().references('tasks.id'))
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('comments_task')
      .on('comments')
      .columns(['task_id', 'id'])
      .execute();

    // Append-only; ids come from the `events` counter inside the writing
    // transaction, so they are gap-free and in commit order on both dialects.
    await db.schema
      .createTable('events')
      .addColumn('id', 'bigint', (c) => c.primaryKey())
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('task_id', 'bigint')
      .addColumn('run_id', 'text')
      .addColumn('data', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('events_task').on('events').columns(['task_id', 'id']).execute();

    await db.schema
      .createTable('messages')
      .addColumn('id', serial, (c) => (autoInc ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('task_id', 'bigint', (c) => c.references('tasks.id'))
      .addColumn('run_id', 'text')
      .addColumn('type', 'text', (c) => c.notNull())
      .addColumn('author', 'text', (c) => c.notNull())
      .addColumn('body', 'text', (c) => c.notNull())
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex('messages_task')
      .on('messages')
      .columns(['task_id', 'id'])
      .execute();

    await db.schema
      .createTable('schedules')
      .addColumn('id', serial, (c) => (autoInc ? c.primaryKey().autoIncrement() : c.primaryKey()))
      .addColumn('cron', 'text', (c) => c.notNull())
      .addColumn('timezone', 'text')
      .addColumn('agent', 'text')
      .addColumn('prompt', 'text', (c) => c.notNull())
      .addColumn('task_id', 'bigint', (c) => c.references('tasks.id'))
      .addColumn('catch_up', 'text', (c) => c.notNull())
      .addColumn('catch_up_window_ms', 'bigint', (c) => c.notNull())
      .addColumn('overlap', 'text', (c) => c.notNull())
      .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
      .addColumn('last_tick_at', 'bigint')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .execute();
    await db.schema
      .createTable('schedule_ticks')
      .addColumn('schedule_id', 'bigint', (c) => c.notNull().references('schedules.id'))
      .addColumn('tick_at', 'bigint', (c) => c.notNull())
      .addColumn('task_id', 'bigint')
      .addColumn('run_id', 'text')
      .addColumn('created_at', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('schedule_ticks_pk', ['schedule_id', 'tick_at'])
      .execute();

    await db.schema
      .createTable('workers')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('host', 'text', (c) => c.notNull())
      .addColumn('boot_id', 'text', (c) => c.notNull())
      .addColumn('pid', 'integer', (c) => c.notNull())
      .addColumn('proc_start_time', 'bigint')
      .addColumn('labels', 'text', (c) => c.notNull().defaultTo('[]'))
      .addColumn('started_at', 'bigint', (c) => c.notNull())
      .addColumn('heartbeat_at', 'bigint', (c) => c.notNull())
      .addColumn('stopped_at', 'bigint')
      .execute();
  },
};
