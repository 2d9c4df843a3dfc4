/** A task as its page shows it: what it waits on, subtasks, comments, runs, usage, approvals, PR. */
import type { TaskDetail } from '../contract/views.js';
import { formatTaskId } from '../domain/ids.js';
import { commentsOf } from '../store/comments.js';
import { pullRequestUrlsOf } from '../store/reviews.js';
import { listRuns } from '../store/runs.js';
import { dependenciesOf, getTask, getTasks, listTasks } from '../store/tasks.js';
import { listRules } from './approval-rules.js';
import { taskApprovals } from './approvals.js';
import type { App } from './context.js';
import { taskNotFound } from './task-lookup.js';
import { commentView, taskView } from './views.js';
import { runViews } from './workers.js';

export async function showTask(app: App, id: number): Promise<TaskDetail> {
  const db = app.store.db;
  const task = await getTask(db, id);
  if (!task) throw taskNotFound(id);
  const [deps, comments, runs, children, approvals, approvalRules, pullRequests] =
    await Promise.all([
      dependenciesOf(db, id),
      commentsOf(db, id),
      listRuns(db, { taskId: id, order: 'asc' }),
      listTasks(db, { parentId: id, sort: 'created' }),
      taskApprovals(app, id),
      listRules(app, id),
      pullRequestUrlsOf(db, [id]),
    ]);
  const depRows = await getTasks(db, deps);
  const usage = runs.reduce(
    (a, r) => ({
      tokensIn: a.tokensIn + r.tokens_in,
      tokensOut: a.tokensOut + r.tokens_out,
      costUsd: a.costUsd + r.cost_usd,
    }),
    { tokensIn: 0, tokensOut: 0, costUsd: 0 },
  );
  return {
    ...taskView(task, deps),
    waitingOn: depRows.filter((d) => d.status !== 'done').map((d) => formatTaskId(d.id)),
    children: children.map((c) => ({ id: formatTaskId(c.id), title: c.title, status: c.status })),
    comments: comments.map(commentView),
    runs: await runViews(app, runs),
    usage,
    approvals,
    approvalRules,
    pullRequestUrl: pullRequests.get(id) ?? null,
  };
}
