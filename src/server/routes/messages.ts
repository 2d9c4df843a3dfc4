import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  messageTypeProblem,
  POST_MESSAGE_TYPES,
  postMessage,
  readMessages,
  tailMessages,
} from '../../app/messages.js';
import { taskOfRun } from '../../app/read-runs.js';
import { messagesQuery, postMessageBody } from '../../contract/requests.js';
import { messagePage, messageView } from '../../contract/views.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../error-catalog.js';

/** The contract's body, with the bus's own word on a type it refuses (the CLI and MCP say the same). */
const postBody = postMessageBody.extend({
  type: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().toUpperCase() : v),
    z.enum(POST_MESSAGE_TYPES, {
      error: (iss) =>
        typeof iss.input === 'string' ? (messageTypeProblem(iss.input) ?? undefined) : undefined,
    }),
  ),
});

/** The message bus: notes agents and people leave on a task or the whole board. */
export function messageRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/messages',
    tag: 'messages',
    summary:
      'Messages after a cursor (the last id seen), oldest first: the whole board’s, or one task’s',
    query: messagesQuery,
    response: messagePage,
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
      return (await taskOfRun(app, body.runId)) ?? 'board';
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
