import type { FastifyInstance } from 'fastify';
import { taskTree } from '../../app/tree.js';
import { taskParams } from '../../contract/requests.js';
import { taskTree as taskTreeView } from '../../contract/views.js';
import type { ServerContext } from '../context.js';

/** The task and run tree: a task, its subtasks (recursively), and each one's runs. */
export function treeRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks/:id/tree',
    tag: 'tasks',
    summary: 'A task with its subtasks, recursively, and each one’s runs (at most 500 tasks)',
    params: taskParams,
    response: taskTreeView,
    handler: ({ params }) => taskTree(app, params.id),
  });
}
