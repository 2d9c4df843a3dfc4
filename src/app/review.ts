/**
 * Code review of a task's branch: comments on lines of its diff, kept as
 * drafts until they are sent together as a review. "Request changes" queues
 * a run of the task's agent that resumes its own session (as an @mention
 * follow-up does) with the review as its prompt; "approve" moves the card to
 * Done through the task state machine, like any move.
 */
import type {
  ReviewCommentView,
  ReviewResult,
  ReviewView,
  TaskReview,
} from '../contract/review.js';
import type { ReviewVerdict } from '../contract/vocabulary.js';
import { ConflictError, NotFoundError, UsageError } from '../domain/errors.js';
import { formatTaskId } from '../domain/ids.js';
import { diffLine, reviewPrompt } from '../domain/review.js';
import { appendEvent } from '../store/events.js';
import {
  deleteDraftComment,
  getReviewComment,
  insertReview,
  insertReviewComment,
  type ReviewCommentRow,
  type ReviewRow,
  reviewCommentsOf,
  reviewsOf,
} from '../store/reviews.js';
import { activeRunOfTask, latestRunOfTask, type RunRow } from '../store/runs.js';
import type { Tx } from '../store/store.js';
import { dependenciesOf, getTask, type TaskRow } from '../store/tasks.js';
import { getWorkspace } from '../store/workspaces.js';
import { branchCommit } from '../workspace/repo.js';
import type { App } from './context.js';
import { enqueueRun, resumableSession } from './queue.js';
import { requireTask, taskNotFound } from './task-lookup.js';
import { moveTaskInTx } from './tasks.js';
import { runView, taskView } from './views.js';
import { diffTask } from './workspaces.js';

const iso = (t: number) => new Date(t).toISOString();

function commentView(c: ReviewCommentRow): ReviewCommentView {
  return {
    id: c.id,
    task: formatTaskId(c.task_id),
    file: c.file,
    line: c.line,
    side: c.side,
    quote: c.quote,
    body: c.body,
    author: c.author,
    review: c.review_id,
    createdAt: iso(c.created_at),
  };
}

function reviewView(r: ReviewRow, comments: ReviewCommentRow[]): ReviewView {
  return {
    id: r.id,
    task: formatTaskId(r.task_id),
    verdict: r.verdict,
    body: r.body,
    author: r.author,
    commit: r.reviewed_commit,
    run: r.run_id,
    comments: comments.map(commentView),
    createdAt: iso(r.created_at),
  };
}

/** The task's draft comments and its past reviews, newest first. */
export async function taskReview(app: App, taskId: number): Promise<TaskReview> {
  const db = app.store.db;
  if (!(await getTask(db, taskId))) throw taskNotFound(taskId);
  const [draft, sent, reviews] = await Promise.all([
    reviewCommentsOf(db, taskId, 'draft'),
    reviewCommentsOf(db, taskId, 'sent'),
    reviewsOf(db, taskId),
  ]);
  return {
    task: formatTaskId(taskId),
    draft: draft.map(commentView),
    reviews: reviews.map((r) =>
      reviewView(
        r,
        sent.filter((c) => c.review_id === r.id),
      ),
    ),
  };
}

export interface NewReviewComment {
  file: string;
  line: number;
  side: 'old' | 'new';
  /** The line's text as the commenter saw it; when given, it must still be the diff's. */
  quote?: string;
  body: string;
  author: string;
}

/**
 * Adds a draft comment on a line of the task's current diff. The line must
 * be one the diff shows on that side; the code quoted is the diff's own, and
 * must be the `quote` the commenter saw when one is given (diff_changed).
 */
export async function addReviewComment(
  app: App,
  taskId: number,
  c: NewReviewComment,
): Promise<ReviewCommentView> {
  const diff = await diffTask(app, taskId);
  const id = formatTaskId(taskId);
  const file = diff.files.findIndex((f) => f.path === c.file);
  if (file < 0) {
    const names = diff.files.slice(0, 10).map((f) => f.path);
    throw new UsageError(
      `${id}'s diff (${diff.branch} against ${diff.base}) does not change ${c.file}: comment on one of its files${names.length ? ` (${names.join(', ')}${diff.files.length > 10 ? ', …' : ''})` : ', which has none yet'}`,
      { field: 'file' },
    );
  }
  const quote = diffLine(diff.patch, file, c.side, c.line);
  if (quote === undefined) {
    throw new UsageError(
      `${c.file} has no line ${c.line} on the ${c.side} side of ${id}'s diff: comment on a line the diff shows (an added or unchanged line on the new side, a removed one on the old side)`,
      { field: 'line' },
    );
  }
  // The line the person saw, not whatever the branch has there now.
  if (c.quote !== undefined && c.quote !== '' && c.quote !== quote) {
    throw new ConflictError(
      'diff_changed',
      `the diff changed since you loaded it: line ${c.line} of ${c.file} now reads ${JSON.stringify(quote.length > 200 ? `${quote.slice(0, 199)}…` : quote)}; reload the Review tab and comment again`,
      { file: c.file, line: c.line, side: c.side, current: quote },
    );
  }
  const row = await app.store.tx(async (tx) => {
    await requireTask(tx, taskId);
    return insertReviewComment(tx, { task_id: taskId, ...c, quote });
  });
  return commentView(row);
}

/** Deletes a draft comment; one sent with a review stays, as part of it. */
export async function deleteReviewComment(
  app: App,
  taskId: number,
  commentId: number,
): Promise<{ id: string; deleted: true }> {
  return app.store.tx(async (tx) => {
    const c = await getReviewComment(tx.db, commentId);
    if (!c || c.task_id !== taskId) {
      throw new NotFoundError(
        'review comment',
        String(commentId),
        `list ${formatTaskId(taskId)}'s with \`agentboard review ${formatTaskId(taskId)}\``,
      );
    }
    if (!(await deleteDraftComment(tx, commentId))) {
      throw new ConflictError(
        'review_comment_sent',
        `review comment ${commentId} was sent with review ${c.review_id} and is part of it now: only a draft comment can be deleted`,
      );
    }
    return { id: String(commentId), deleted: true as const };
  });
}

export interface SubmitReview {
  verdict: ReviewVerdict;
  body: string;
  author: string;
}

/** Sends the draft comments as a review: back to the agent (request_changes), or Done (approve). */
export async function submitReview(
  app: App,
  taskId: number,
  s: SubmitReview,
): Promise<ReviewResult> {
  const ws = await getWorkspace(app.store.db, taskId);
  const commit = ws && ws.discarded_at === null ? await branchCommit(ws.repo, ws.branch) : null;
  if (s.verdict === 'approve') {
    // One transaction: a crash cannot leave the card Done without its review.
    return app.store.tx(async (tx) => {
      await refuseActiveRun(app, taskId, tx);
      const task = await moveTaskInTx(app, tx, taskId, 'done');
      const review = await recordReview(tx, taskId, s, commit, null);
      return { review, task, run: null };
    });
  }
  return app.store.tx(async (tx) => {
    const task = await requireTask(tx, taskId);
    await refuseActiveRun(app, taskId, tx);
    const drafts = await reviewCommentsOf(tx.db, taskId, 'draft');
    if (drafts.length === 0 && s.body.trim() === '') {
      throw new UsageError(
        `a request for changes needs something to change: comment on lines of ${formatTaskId(taskId)}'s diff first, or give the review a body`,
        { field: 'body' },
      );
    }
    const run = await queueReviewRun(app, tx, task, {
      prompt: reviewPrompt(
        { task, author: s.author, body: s.body, commit, branch: ws?.branch },
        drafts,
      ),
    });
    const review = await recordReview(tx, taskId, s, commit, run.id, drafts);
    const moved = await requireTask(tx, taskId);
    return {
      review,
      task: taskView(moved, await dependenciesOf(tx.db, taskId)),
      run: runView(run),
    };
  });
}

async function recordReview(
  tx: Tx,
  taskId: number,
  s: SubmitReview,
  commit: string | null,
  runId: string | null,
  drafts?: ReviewCommentRow[],
): Promise<ReviewView> {
  const comments = drafts ?? (await reviewCommentsOf(tx.db, taskId, 'draft'));
  const row = await insertReview(
    tx,
    {
      task_id: taskId,
      verdict: s.verdict,
      body: s.body,
      author: s.author,
      reviewed_commit: commit,
      run_id: runId,
    },
    comments.map((c) => c.id),
  );
  await appendEvent(tx, 'review.submitted', {
    taskId,
    runId,
    data: { reviewId: row.id, verdict: s.verdict, comments: comments.length, run: runId },
  });
  return reviewView(
    row,
    comments.map((c) => ({ ...c, review_id: row.id })),
  );
}

/**
 * The follow-up run: the task's agent, resuming its last session on this
 * task where it has sessions, exactly as a mention's or a prompted run's.
 */
async function queueReviewRun(
  app: App,
  tx: Tx,
  task: TaskRow,
  o: { prompt: string },
): Promise<RunRow> {
  const previous = await latestRunOfTask(tx.db, task.id);
  const agent = task.agent ?? previous?.agent ?? app.config.defaults.agent;
  const id = formatTaskId(task.id);
  if (!agent || !app.config.agents[agent]) {
    throw new UsageError(
      `${id} has no configured agent to send the review to${agent ? ` ("${agent}" is not in config.yaml)` : ''}: set one with \`agentboard task edit ${id} --agent NAME\`, then submit again`,
      { field: 'agent' },
    );
  }
  const resume = await resumableSession(app, tx, task.id, agent);
  return enqueueRun(app, tx, task, {
    agent,
    trigger: 'review',
    prompt: o.prompt,
    previousRunId: previous?.id ?? null,
    resumeSessionId: resume,
  });
}

async function refuseActiveRun(app: App, taskId: number, tx?: Tx): Promise<void> {
  const active = await activeRunOfTask(tx?.db ?? app.store.db, taskId);
  if (!active) return;
  const id = formatTaskId(taskId);
  throw new ConflictError(
    'run_active',
    `${id} has an active run ${active.id} (${active.agent}, ${active.state}): submit the review once it has ended (\`agentboard task wait ${id}\`), or stop it first (\`agentboard stop ${active.id}\`); your draft comments are kept`,
    { activeRun: active.id, state: active.state },
  );
}
