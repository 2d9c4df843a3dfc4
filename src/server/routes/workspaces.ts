import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { runGc } from '../../app/gc.js';
import { diffRun, diffTask, discardTask, mergeTask, showWorkspace } from '../../app/workspaces.js';
import { parseDuration } from '../../domain/duration.js';
import type { ServerContext } from '../context.js';
import { runParams, taskParams } from '../schemas.js';

/** Worktrees: a task's workspace, its diff and a run's, merge, discard, gc. */
export function workspaceRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks/:id/workspace',
    tag: 'workspaces',
    summary: 'The task’s worktree: path, branch, base, merge and discard state',
    params: taskParams,
    handler: ({ params }) => showWorkspace(app, params.id),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks/:id/diff',
    tag: 'workspaces',
    summary:
      'Everything the task’s branch changed against its base: files with line counts, and the patch',
    params: taskParams,
    handler: ({ params }) => diffTask(app, params.id),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/runs/:id/diff',
    tag: 'workspaces',
    summary: 'What one run changed: from the commit it started at to the commit of its work',
    params: runParams,
    handler: ({ params }) => diffRun(app, params.id),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/merge',
    tag: 'workspaces',
    summary: 'Merge the task branch into its base (409 merge_conflict changes nothing)',
    params: taskParams,
    body: z.strictObject({ squash: z.boolean().optional() }).optional(),
    handler: ({ params, body }) => mergeTask(app, params.id, { squash: body?.squash }),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/discard',
    tag: 'workspaces',
    summary: 'Delete the task’s worktree and branch',
    params: taskParams,
    handler: ({ params }) => discardTask(app, params.id),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/gc',
    tag: 'workspaces',
    summary:
      'Remove run directories and worktrees of finished tasks past retention (dryRun lists them)',
    body: z
      .strictObject({
        olderThan: z
          .string()
          .max(20)
          .refine((s) => {
            try {
              parseDuration(s);
              return true;
            } catch {
              return false;
            }
          }, 'a duration like 7d, 12h or 30m')
          .default('7d'),
        keepFailed: z.boolean().default(false),
        dryRun: z.boolean().default(true),
      })
      .prefault({}),
    handler: ({ body }) =>
      runGc(app, {
        olderThanMs: parseDuration(body.olderThan),
        keepFailed: body.keepFailed,
        dryRun: body.dryRun,
      }),
  });
}
