/**
 * Waiting for tasks to finish (`agentboard task wait`, MCP wait_for_task):
 * an agent that created subtasks waits for them. The rows are the truth;
 * what wakes the waiter is cheap: an in-process commit on `store.changes`,
 * another process's commit seen through SQLite's data_version (one PRAGMA
 * per poll, no query), or on PostgreSQL a short re-read of the tasks.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { formatTaskId } from '../domain/ids.js';
import type { TaskStatus } from '../domain/task.js';
import { getTasks } from '../store/tasks.js';
import type { App } from './context.js';
import { taskNotFound } from './task-lookup.js';

export interface WaitOptions {
  /** Give up after this long; no limit when omitted. */
  timeoutMs?: number;
  /** Review counts as finished (a board whose runs end in Review). */
  reviewOk?: boolean;
  signal?: AbortSignal;
  /** How often to look for other processes' commits. */
  pollMs?: number;
}

export interface WaitResult {
  /** done: every task finished; failed: one is Blocked or Cancelled; timeout: time ran out. */
  outcome: 'done' | 'failed' | 'timeout';
  tasks: { id: string; title: string; status: TaskStatus; statusReason: string | null }[];
  waitedMs: number;
}

const SQLITE_POLL_MS = 50;
const POSTGRES_POLL_MS = 250;

export async function waitForTasks(
  app: App,
  taskIds: number[],
  o: WaitOptions = {},
): Promise<WaitResult> {
  const ids = [...new Set(taskIds)];
  const started = Date.now();
  const deadline = o.timeoutMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + o.timeoutMs;
  const sqlite = app.store.dataVersion() !== null;
  const pollMs = o.pollMs ?? (sqlite ? SQLITE_POLL_MS : POSTGRES_POLL_MS);
  let changed = false;
  const onChange = () => {
    changed = true;
  };
  app.store.changes.on('events', onChange);
  try {
    for (;;) {
      changed = false;
      const version = app.store.dataVersion();
      const rows = await getTasks(app.store.db, ids);
      for (const id of ids) if (!rows.some((r) => r.id === id)) throw taskNotFound(id);
      const tasks = ids.map((id) => {
        const t = rows.find((r) => r.id === id) as (typeof rows)[number];
        return {
          id: formatTaskId(t.id),
          title: t.title,
          status: t.status,
          statusReason: t.status_reason,
        };
      });
      const result = (outcome: WaitResult['outcome']): WaitResult => ({
        outcome,
        tasks,
        waitedMs: Date.now() - started,
      });
      if (tasks.some((t) => t.status === 'blocked' || t.status === 'cancelled'))
        return result('failed');
      if (tasks.every((t) => t.status === 'done' || (o.reviewOk && t.status === 'review')))
        return result('done');
      // Sleep until something may have changed, or the deadline.
      for (;;) {
        if (o.signal?.aborted) throw o.signal.reason;
        if (Date.now() >= deadline) return result('timeout');
        await sleep(Math.min(pollMs, Math.max(0, deadline - Date.now())), undefined, {
          signal: o.signal,
        });
        if (changed || !sqlite || app.store.dataVersion() !== version) break;
      }
    }
  } finally {
    app.store.changes.off('events', onChange);
  }
}
