import type { FastifyInstance } from 'fastify';
import { openPullRequest, pushTask } from '../../app/publish.js';
import {
  addReviewComment,
  deleteReviewComment,
  submitReview,
  taskReview,
} from '../../app/review.js';
import { taskParams } from '../../contract/requests.js';
import {
  pullRequestResult,
  pushResult,
  reviewCommentBody,
  reviewCommentParams,
  reviewCommentView,
  reviewResult,
  submitReviewBody,
  taskReview as taskReviewView,
} from '../../contract/review.js';
import { deleted } from '../../contract/views.js';
import type { ServerContext } from '../context.js';

/**
 * Review of a task's branch (line comments, request changes, approve), and
 * publishing it (push, pull request). A person's actions: a run's token may
 * not review its own work.
 */
export function reviewRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks/:id/review',
    tag: 'review',
    summary: 'The task’s draft review comments, and its past reviews (newest first)',
    params: taskParams,
    response: taskReviewView,
    handler: ({ params }) => taskReview(app, params.id),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/review/comments',
    tag: 'review',
    summary:
      'Add a draft comment on a line of the task’s diff (a line the diff does not show on that side is a 400; a `quote` that is no longer the diff’s text of that line is a 409 diff_changed)',
    params: taskParams,
    body: reviewCommentBody,
    status: 201,
    response: reviewCommentView,
    handler: ({ params, body }) =>
      addReviewComment(app, params.id, {
        file: body.file,
        line: body.line,
        side: body.side,
        quote: body.quote,
        body: body.body,
        author: body.author ?? 'user',
      }),
  });

  routes.add(f, {
    method: 'DELETE',
    url: '/api/v1/tasks/:id/review/comments/:commentId',
    tag: 'review',
    summary: 'Delete a draft review comment (one sent with a review is a 409)',
    params: reviewCommentParams,
    response: deleted,
    handler: ({ params }) => deleteReviewComment(app, params.id, params.commentId),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/review',
    tag: 'review',
    summary:
      'Submit the draft comments as a review: request_changes queues a run resuming the agent’s session with them as its prompt; approve moves the card to Done',
    params: taskParams,
    body: submitReviewBody,
    response: reviewResult,
    handler: ({ params, body }) =>
      submitReview(app, params.id, {
        verdict: body.verdict,
        body: body.body,
        author: body.author ?? 'user',
      }),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/push',
    tag: 'review',
    summary: 'Push the task branch to board.remote (as the branch of the same name)',
    params: taskParams,
    response: pushResult,
    handler: ({ params }) => pushTask(app, params.id),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/pull-request',
    tag: 'review',
    summary:
      'Open a pull request with board.pr_command (pushing the branch first when board.remote is set); its URL is stored on the task',
    params: taskParams,
    response: pullRequestResult,
    handler: ({ params }) => openPullRequest(app, params.id),
  });
}
