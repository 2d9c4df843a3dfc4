/** What the board reads besides tasks themselves: card run summaries, comments, list counts. */
import type { CardView, CommentView, TaskView } from '../contract/views.js';
import { RUN_STATES } from '../contract/vocabulary.js';
import { formatTaskId } from '../domain/ids.js';
import { pendingByTask } from '../store/approvals.js';
import { cardRuns } from '../store/cards.js';
import { commentsOf } from '../store/comments.js';
import { pullRequestUrlsOf } from '../store/reviews.js';
import { countRunsByState, queueDepth } from '../store/stats.js';
import { countTasksByStatus, getTask, type TaskFilter } from '../store/tasks.js';
import type { App } from './context.js';
import { taskNotFound } from './task-lookup.js';
import { listTaskViews } from './tasks.js';
import { commentView, isUnsupervised, known } from './views.js';
import { supervision } from './workers.js';

export type { TaskFilter };

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** The run summary of each task's card: latest run, run count, total cost. */
export async function cardViews(app: App, taskIds: number[]): Promise<CardView[]> {
  const ids = [...new Set(taskIds)];
  const [rows, watched, pending, pullRequests] = await Promise.all([
    cardRuns(app.store.db, ids),
    supervision(app),
    pendingByTask(app.store.db, ids),
    pullRequestUrlsOf(app.store.db, ids),
  ]);
  return rows.map((c) => {
    const r = c.latest;
    const waiting = pending.get(c.taskId);
    return {
      task: formatTaskId(c.taskId),
      runs: c.runs,
      costUsd: c.costUsd,
      approvals: waiting
        ? { pending: waiting.pending, since: new Date(waiting.since).toISOString() }
        : { pending: 0, since: null },
      pullRequestUrl: pullRequests.get(c.taskId) ?? null,
      // The card does not show the lease itself, only what it means.
      run: r && {
        id: r.id,
        state: known(RUN_STATES, r.state, 'run state'),
        agent: r.agent,
        attempt: r.attempt,
        maxAttempts: r.maxAttempts,
        iteration: r.iteration,
        startedAt: iso(r.startedAt),
        endedAt: iso(r.endedAt),
        lastOutputAt: iso(r.lastOutputAt),
        exitCode: r.exitCode,
        errorSummary: r.errorSummary,
        stalled: r.stalled,
        notice: r.notice,
        denials: r.denials,
        unsupervised: isUnsupervised(
          { state: r.state, lease_expires_at: r.leaseExpiresAt },
          watched,
        ),
      },
    };
  });
}

/** A page of tasks for the filter, and the cards per column for the same filter. */
export async function taskListPage(
  app: App,
  filter: TaskFilter & { limit: number; offset: number },
): Promise<{
  items: TaskView[];
  total: number;
  counts: Record<string, number>;
  offset: number;
  nextOffset: number | null;
}> {
  const { limit: _l, offset: _o, ...unpaged } = filter;
  const [items, counts] = await Promise.all([
    listTaskViews(app, filter),
    countTasksByStatus(app.store.db, unpaged),
  ]);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const next = filter.offset + items.length;
  return { items, total, counts, offset: filter.offset, nextOffset: next < total ? next : null };
}

/** A task's comments, oldest first. */
export async function taskComments(app: App, taskId: number): Promise<CommentView[]> {
  if (!(await getTask(app.store.db, taskId))) throw taskNotFound(taskId);
  return (await commentsOf(app.store.db, taskId)).map(commentView);
}

/** Runs per state, for the metrics gauge. */
export function runCountsByState(app: App): Promise<Map<string, number>> {
  return countRunsByState(app.store.db);
}

/** Queued runs, and those of them that may start now. */
export function queueNow(app: App): ReturnType<typeof queueDepth> {
  return queueDepth(app.store.db, app.clock.now());
}
