/**
 * Code review of a task's branch: comments on lines of its diff, gathered
 * into a review. "Request changes" resumes the agent's session with the
 * review as its prompt; "approve" moves the card to Done. Also pushing the
 * branch and opening a pull request.
 */
import { z } from 'zod';
import { runView, taskView } from './views.js';
import { REVIEW_VERDICTS } from './vocabulary.js';

const iso = z.string();

export const reviewCommentView = z.object({
  id: z.number(),
  task: z.string(),
  /** The file's path in the diff (its new name for a rename). */
  file: z.string(),
  /** The line number on that side of the diff. */
  line: z.number(),
  /** `new`: a line of the branch (added or context); `old`: a removed line. */
  side: z.enum(['old', 'new']),
  /** The line of code commented on, as the diff showed it. */
  quote: z.string(),
  body: z.string(),
  author: z.string(),
  /** The review it went out with; null while it is a draft. */
  review: z.number().nullable(),
  createdAt: iso,
});
export type ReviewCommentView = z.infer<typeof reviewCommentView>;

export const reviewView = z.object({
  id: z.number(),
  task: z.string(),
  verdict: z.enum(REVIEW_VERDICTS),
  /** The review's overall comment. */
  body: z.string(),
  author: z.string(),
  /** The branch commit reviewed. */
  commit: z.string().nullable(),
  /** The resumed run a request for changes queued. */
  run: z.string().nullable(),
  comments: z.array(reviewCommentView),
  createdAt: iso,
});
export type ReviewView = z.infer<typeof reviewView>;

/** A task's review state: the draft comments not yet sent, and past reviews (newest first). */
export const taskReview = z.object({
  task: z.string(),
  draft: z.array(reviewCommentView),
  reviews: z.array(reviewView),
});
export type TaskReview = z.infer<typeof taskReview>;

export const reviewCommentBody = z.strictObject({
  file: z.string().min(1).max(4096),
  line: z.number().int().min(1).max(10_000_000),
  side: z.enum(['old', 'new']).default('new'),
  quote: z.string().max(10_000).default(''),
  body: z.string().min(1).max(100_000),
  author: z.string().min(1).max(64).optional(),
});

export const reviewCommentParams = z.strictObject({
  id: z
    .string()
    .max(24)
    .regex(/^(T-?)?[1-9][0-9]{0,15}$/i, 'a task id looks like T-42')
    .transform((s) => Number(/[0-9]+$/.exec(s)?.[0])),
  commentId: z.coerce.number().int().min(1),
});

export const submitReviewBody = z.strictObject({
  verdict: z.enum(REVIEW_VERDICTS),
  body: z.string().max(100_000).default(''),
  author: z.string().min(1).max(64).optional(),
});

export const reviewResult = z.object({
  review: reviewView,
  task: taskView,
  /** The resumed run a request for changes queued. */
  run: runView.nullable(),
});
export type ReviewResult = z.infer<typeof reviewResult>;

export const pushResult = z.object({
  task: z.string(),
  branch: z.string(),
  remote: z.string(),
  commit: z.string(),
});
export type PushResult = z.infer<typeof pushResult>;

export const pullRequestResult = z.object({
  task: z.string(),
  branch: z.string(),
  url: z.string(),
});
export type PullRequestResult = z.infer<typeof pullRequestResult>;
