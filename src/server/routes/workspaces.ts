import type { FastifyInstance } from 'fastify';
import { runGc } from '../../app/gc.js';
import { diffRun, diffTask, discardTask, mergeTask, showWorkspace } from '../../app/workspaces.js';
import { gcBody, mergeBody, runParams, taskParams } from '../../contract/requests.js';
import {
  diffView,
  discardResult,
  gcReport,
  mergeResult,
  workspaceView,
} from '../../contract/service-views.js';
import { parseDuration } from '../../domain/duration.js';
import type { ServerContext } from '../context.js';

/** Worktrees: a task's workspace, its diff and a run's, merge, discard, gc. */
export function workspaceRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks/:id/workspace',
    tag: 'workspaces',
    summary: 'The task’s worktree: path, branch, base, merge and discard state',
    params: taskParams,
    response: workspaceView,
    handler: ({ params }) => showWorkspace(app, params.id),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks/:id/diff',
    tag: 'workspaces',
    summary:
      'Everything the task’s branch changed against its base: files with line counts, and the patch',
    params: taskParams,
    response: diffView,
    handler: ({ params }) => diffTask(app, params.id),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/runs/:id/diff',
    tag: 'workspaces',
    summary: 'What one run changed: from the commit it started at to the commit of its work',
    params: runParams,
    response: diffView,
    handler: ({ params }) => diffRun(app, params.id),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/merge',
    tag: 'workspaces',
    summary: 'Merge the task branch into its base (409 merge_conflict changes nothing)',
    params: taskParams,
    body: mergeBody,
    response: mergeResult,
    handler: ({ params, body }) => mergeTask(app, params.id, { squash: body?.squash }),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/discard',
    tag: 'workspaces',
    summary: 'Delete the task’s worktree and branch',
    params: taskParams,
    response: discardResult,
    handler: ({ params }) => discardTask(app, params.id),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/gc',
    tag: 'workspaces',
    summary:
      'Remove run directories and worktrees of finished tasks past retention (dryRun lists them)',
    body: gcBody,
    response: gcReport,
    handler: ({ body }) =>
      runGc(app, {
        olderThanMs: parseDuration(body.olderThan),
        keepFailed: body.keepFailed,
        dryRun: body.dryRun,
      }),
  });
}
