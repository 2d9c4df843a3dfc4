import type { FastifyInstance } from 'fastify';
import { deleteTask } from '../../app/delete-task.js';
import { taskComments, taskListPage } from '../../app/read-board.js';
import { showTask } from '../../app/read-task.js';
import { addTask, cancelTask, commentOnTask, editTask, moveTask } from '../../app/tasks.js';
import {
  commentBody,
  createTaskBody,
  moveTaskBody,
  patchTaskBody,
  taskListQuery,
  taskParams,
} from '../../contract/requests.js';
import {
  commentList,
  commentResult,
  deleted,
  taskDetail,
  taskPage,
  taskView,
} from '../../contract/views.js';
import type { ServerContext } from '../context.js';
import { refusedToRun } from '../run-scope.js';

export function taskRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks',
    tag: 'tasks',
    summary:
      'List tasks, filtered, sorted and paged; `counts` gives cards per column for the filter',
    query: taskListQuery,
    response: taskPage,
    handler: ({ query }) =>
      taskListPage(app, {
        statuses: query.status,
        agent: query.agent,
        label: query.label,
        search: query.q,
        parentId: query.parent,
        sort: query.sort,
        order: query.order,
        limit: query.limit,
        offset: query.offset,
      }),
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
    response: taskDetail,
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
    response: deleted,
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
    response: commentList,
    handler: async ({ params }) => ({ items: await taskComments(app, params.id) }),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/comments',
    tag: 'tasks',
    summary: 'Comment on a task',
    params: taskParams,
    body: commentBody,
    status: 201,
    response: commentResult,
    runScope: ({ params }) => params.id,
    handler: ({ params, body }) => commentOnTask(app, params.id, body.author ?? 'user', body.body),
  });
}
