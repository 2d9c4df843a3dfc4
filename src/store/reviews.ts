/**
 * Reviews, their line comments and a task's pushed branch and pull request
 * (migration 009).
 */
import type { Kysely, Selectable } from 'kysely';
import type { DB, PullRequestsTable, ReviewCommentsTable, ReviewsTable } from './schema.js';
import type { Tx } from './store.js';

export type ReviewRow = Selectable<ReviewsTable>;
export type ReviewCommentRow = Selectable<ReviewCommentsTable>;
export type PullRequestRow = Selectable<PullRequestsTable>;

/** PostgreSQL returns bigint columns as strings. */
function commentRow(r: ReviewCommentRow): ReviewCommentRow {
  return {
    ...r,
    id: Number(r.id),
    task_id: Number(r.task_id),
    review_id: r.review_id === null ? null : Number(r.review_id),
    line: Number(r.line),
    created_at: Number(r.created_at),
  };
}

function reviewRow(r: ReviewRow): ReviewRow {
  return { ...r, id: Number(r.id), task_id: Number(r.task_id), created_at: Number(r.created_at) };
}

export async function insertReviewComment(
  tx: Tx,
  c: Omit<ReviewCommentRow, 'id' | 'created_at' | 'review_id'>,
): Promise<ReviewCommentRow> {
  const row = await tx.db
    .insertInto('review_comments')
    .values({ ...c, review_id: null, created_at: tx.now })
    .returningAll()
    .executeTakeFirstOrThrow();
  return commentRow(row);
}

export async function getReviewComment(
  db: Kysely<DB>,
  id: number,
): Promise<ReviewCommentRow | undefined> {
  const r = await db
    .selectFrom('review_comments')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return r && commentRow(r);
}

/** Deletes a draft comment; false when it is not one (sent with a review, or gone). */
export async function deleteDraftComment(tx: Tx, id: number): Promise<boolean> {
  const r = await tx.db
    .deleteFrom('review_comments')
    .where('id', '=', id)
    .where('review_id', 'is', null)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** A task's comments, oldest first: its drafts (`review` null) or those of these reviews. */
export async function reviewCommentsOf(
  db: Kysely<DB>,
  taskId: number,
  review: 'draft' | 'sent',
): Promise<ReviewCommentRow[]> {
  const rows = await db
    .selectFrom('review_comments')
    .selectAll()
    .where('task_id', '=', taskId)
    .where('review_id', review === 'draft' ? 'is' : 'is not', null)
    .orderBy('id')
    .execute();
  return rows.map(commentRow);
}

/** A task's reviews, newest first. */
export async function reviewsOf(db: Kysely<DB>, taskId: number): Promise<ReviewRow[]> {
  const rows = await db
    .selectFrom('reviews')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('id', 'desc')
    .execute();
  return rows.map(reviewRow);
}

/** Records a review and attaches these draft comments to it. */
export async function insertReview(
  tx: Tx,
  r: Omit<ReviewRow, 'id' | 'created_at'>,
  commentIds: number[],
): Promise<ReviewRow> {
  const row = reviewRow(
    await tx.db
      .insertInto('reviews')
      .values({ ...r, created_at: tx.now })
      .returningAll()
      .executeTakeFirstOrThrow(),
  );
  for (let i = 0; i < commentIds.length; i += 500) {
    await tx.db
      .updateTable('review_comments')
      .set({ review_id: row.id })
      .where('id', 'in', commentIds.slice(i, i + 500))
      .where('review_id', 'is', null)
      .execute();
  }
  return row;
}

export async function getPullRequest(
  db: Kysely<DB>,
  taskId: number,
): Promise<PullRequestRow | undefined> {
  const r = await db
    .selectFrom('pull_requests')
    .selectAll()
    .where('task_id', '=', taskId)
    .executeTakeFirst();
  return r && { ...r, task_id: Number(r.task_id) };
}

/** Records what was pushed or opened for a task's branch; fields not given are kept. */
export async function savePullRequest(
  tx: Tx,
  taskId: number,
  patch: Partial<Omit<PullRequestRow, 'task_id' | 'updated_at'>> & { branch: string },
): Promise<void> {
  const set = { ...patch, updated_at: tx.now };
  await tx.db
    .insertInto('pull_requests')
    .values({
      task_id: taskId,
      remote: null,
      pushed_commit: null,
      pushed_at: null,
      url: null,
      opened_at: null,
      ...set,
    })
    .onConflict((oc) => oc.column('task_id').doUpdateSet(set))
    .execute();
}

/** The pull request URLs of these tasks (those that have one). */
export async function pullRequestUrlsOf(
  db: Kysely<DB>,
  taskIds: number[],
): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  for (let i = 0; i < taskIds.length; i += 500) {
    const rows = await db
      .selectFrom('pull_requests')
      .select(['task_id', 'url'])
      .where('task_id', 'in', taskIds.slice(i, i + 500))
      .where('url', 'is not', null)
      .execute();
    for (const r of rows) if (r.url !== null) out.set(Number(r.task_id), r.url);
  }
  return out;
}

/** Removes a task's review comments, reviews and pull request record (deleting the task). */
export async function deleteReviewRows(tx: Tx, taskId: number): Promise<void> {
  const db = tx.db;
  await db.deleteFrom('review_comments').where('task_id', '=', taskId).execute();
  await db.deleteFrom('reviews').where('task_id', '=', taskId).execute();
  await db.deleteFrom('pull_requests').where('task_id', '=', taskId).execute();
}
