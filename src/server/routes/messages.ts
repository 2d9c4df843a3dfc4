import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  MAX_AUTHOR,
  MESSAGE_TYPES,
  messageTypeProblem,
  POST_MESSAGE_TYPES,
  postMessage,
  readMessages,
} from '../../app/messages.js';
import type { ServerContext } from '../context.js';
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
      after: intQuery(0, Number.MAX_SAFE_INTEGER).default(0),
      limit: intQuery(1, 1000).default(100),
    }),
    response: z.object({ items: z.array(messageView), next: z.number(), more: z.boolean() }),
    handler: ({ query }) =>
      readMessages(app, { taskId: query.task, after: query.after, limit: query.limit }),
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
