import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  MAX_AUTHOR,
  MESSAGE_TYPES,
  messageTypeProblem,
  POST_MESSAGE_TYPES,
  postMessage,
  readMessages,
  tailMessages,
} from '../../app/messages.js';
import { getRun } from '../../store/runs.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../error-catalog.js';
import { intQuery, runParams, taskRef } from '../schemas.js';

const messageView = z.object({
  id: z.number(),
  taskId: z.string().nullable(),
  runId: z.string().nullable(),
  type: z.enum(MESSAGE_TYPES),
  author: z.string(),
  body: z.string(),
  createdAt: z.string(),
});

const postBody = z.strictObject({
  taskId: taskRef.optional(),
  runId: runParams.shape.id.optional(),
  // RUN_START and RUN_STOP are the engine's own: refused here, as by the CLI and MCP.
  type: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().toUpperCase() : v),
    z.enum(POST_MESSAGE_TYPES, {
      error: (iss) =>
        typeof iss.input === 'string' ? (messageTypeProblem(iss.input) ?? undefined) : undefined,
    }),
  ),
  author: z.string().min(1).max(MAX_AUTHOR).optional(),
  body: z.string().min(1).max(1_000_000),
});

/** The message bus: notes agents and people leave on a task or the whole board. */
export function messageRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/messages',
    tag: 'messages',
    summary:
      'Messages after a cursor (the last id seen), oldest first: the whole board’s, or one task’s',
    query: z.strictObject({
      task: taskRef.optional(),
      after: intQuery(0, Number.MAX_SAFE_INTEGER).optional(),
      limit: intQuery(1, 1000).default(100),
      /** The last `tail` messages instead of those after a cursor. */
      tail: intQuery(1, 1000).optional(),
    }),
    response: z.object({ items: z.array(messageView), next: z.number(), more: z.boolean() }),
    handler: ({ query }) => {
      if (query.tail !== undefined && query.after !== undefined) {
        throw new HttpError('invalid_request', 'query.tail: use tail or after, not both', {
          field: 'query.tail',
        });
      }
      return query.tail !== undefined
        ? tailMessages(app, { taskId: query.task, limit: query.tail })
        : readMessages(app, { taskId: query.task, after: query.after ?? 0, limit: query.limit });
    },
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/messages',
    tag: 'messages',
    summary:
      'Post a message (about a task, a run, or the board); the board feed carries it as message.posted. RUN_START and RUN_STOP are reserved to the board (400).',
    body: postBody,
    status: 201,
    response: messageView,
    runScope: async ({ body }) => {
      if (body.taskId !== undefined) return body.taskId;
      if (body.runId === undefined) return 'board';
      const run = await getRun(app.store.db, body.runId);
      return run ? run.task_id : 'board';
    },
    handler: ({ body }) =>
      postMessage(app, {
        taskId: body.taskId,
        runId: body.runId,
        type: body.type,
        author: body.author ?? 'user',
        body: body.body,
      }),
  });
}
