import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { deleteTask } from '../../app/delete-task.js';
import {
  addTask,
  cancelTask,
  commentOnTask,
  editTask,
  listTaskViews,
  moveTask,
  showTask,
  taskNotFound,
} from '../../app/tasks.js';
import { commentView } from '../../app/views.js';
import { commentsOf } from '../../store/comments.js';
import { countTasksByStatus, getTask, type TaskFilter } from '../../store/tasks.js';
import type { ServerContext } from '../context.js';
import { refusedToRun } from '../run-scope.js';
import {
  commentBody,
  createTaskBody,
  intQuery,
  listOf,
  moveTaskBody,
  page,
  patchTaskBody,
  taskParams,
  taskRef,
  taskStatus,
  taskView,
} from '../schemas.js';

const listQuery = z.strictObject({
  status: listOf(taskStatus).optional(),
  agent: z.string().min(1).max(64).optional(),
  label: z.string().min(1).max(64).optional(),
  q: z.string().min(1).max(200).optional(),
  parent: taskRef.optional(),
  sort: z.enum(['board', 'created', 'updated', 'priority']).default('board'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: intQuery(1, 500).default(100),
  offset: intQuery(0, 10_000_000).default(0),
});

export function taskRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks',
    tag: 'tasks',
    summary:
      'List tasks, filtered, sorted and paged; `counts` gives cards per column for the filter',
    query: listQuery,
    response: page(taskView).extend({ counts: z.record(z.string(), z.number()) }),
    handler: async ({ query }) => {
      const filter: TaskFilter = {
        statuses: query.status,
        agent: query.agent,
        label: query.label,
        search: query.q,
        parentId: query.parent,
        sort: query.sort,
        order: query.order,
      };
      const [items, counts] = await Promise.all([
        listTaskViews(app, { ...filter, limit: query.limit, offset: query.offset }),
        countTasksByStatus(app.store.db, filter),
      ]);
      const total = Object.values(counts).reduce((a, b) => a + b, 0);
      const next = query.offset + items.length;
      return { items, total, counts, offset: query.offset, nextOffset: next < total ? next : null };
    },
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks',
    tag: 'tasks',
    summary: 'Create a task (with a run’s token: a subtask of its task, without a verifyCommand)',
    body: createTaskBody,
    status: 201,
    response: taskView,
    runScope: ({ body, request }) => {
      // A verify command runs through the shell, outside any agent's sandbox: a person's to set.
      if (body.verifyCommand) throw refusedToRun(request, 'set a verifyCommand');
      if (body.parent == null) throw refusedToRun(request, 'add a task outside its own');
      return body.parent;
    },
    handler: ({ body }) => addTask(app, body),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks/:id',
    tag: 'tasks',
    summary: 'A task with its comments, runs, subtasks and what it waits on',
    params: taskParams,
    response: taskView,
    handler: ({ params }) => showTask(app, params.id),
  });

  routes.add(f, {
    method: 'PATCH',
    url: '/api/v1/tasks/:id',
    tag: 'tasks',
    summary: 'Change a task’s fields (moving between columns is POST …/move)',
    params: taskParams,
    body: patchTaskBody,
    response: taskView,
    handler: ({ params, body }) => editTask(app, params.id, body),
  });

  routes.add(f, {
    method: 'DELETE',
    url: '/api/v1/tasks/:id',
    tag: 'tasks',
    summary: 'Delete a task and its history (refused while it has an active run)',
    params: taskParams,
    response: z.object({ id: z.string(), deleted: z.literal(true) }),
    handler: ({ params }) => deleteTask(app, params.id),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/move',
    tag: 'tasks',
    summary: 'Move a card to a column, at a 0-based position (bottom when omitted)',
    params: taskParams,
    body: moveTaskBody,
    response: taskView,
    handler: ({ params, body }) => moveTask(app, params.id, body.status, body.position),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/cancel',
    tag: 'tasks',
    summary: 'Cancel a task; a live agent is stopped first',
    params: taskParams,
    response: taskView,
    handler: ({ params }) => cancelTask(app, params.id, 'api'),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks/:id/comments',
    tag: 'tasks',
    summary: 'A task’s comments, oldest first',
    params: taskParams,
    handler: async ({ params }) => {
      if (!(await getTask(app.store.db, params.id))) throw taskNotFound(params.id);
      return { items: (await commentsOf(app.store.db, params.id)).map(commentView) };
    },
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/comments',
    tag: 'tasks',
    summary: 'Comment on a task',
    params: taskParams,
    body: commentBody,
    status: 201,
    runScope: ({ params }) => params.id,
    handler: ({ params, body }) => commentOnTask(app, params.id, body.author ?? 'user', body.body),
  });
}
