import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { taskTree } from '../../app/tree.js';
import type { ServerContext } from '../context.js';
import { taskParams, taskStatus } from '../schemas.js';

// Children repeat the node's shape; the docs show one level of it.
const treeNode = z.looseObject({
  id: z.string(),
  title: z.string(),
  status: taskStatus,
  statusReason: z.string().nullable(),
  agent: z.string().nullable(),
  runs: z.array(
    z.looseObject({ id: z.string(), agent: z.string(), state: z.string(), trigger: z.string() }),
  ),
  children: z.array(z.looseObject({ id: z.string() })),
});

/** The task and run tree: a task, its subtasks (recursively), and each one's runs. */
export function treeRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks/:id/tree',
    tag: 'tasks',
    summary: 'A task with its subtasks, recursively, and each one’s runs (at most 500 tasks)',
    params: taskParams,
    response: z.object({ root: treeNode, size: z.number(), truncated: z.boolean() }),
    handler: ({ params }) => taskTree(app, params.id),
  });
}
