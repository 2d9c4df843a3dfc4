import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { waitForTasks } from '../../app/wait.js';
import { TASK_STATUSES } from '../../domain/task.js';
import type { ServerContext } from '../context.js';
import { intQuery, listOf, taskRef } from '../schemas.js';

/** One wait is held at most this long; a client waiting longer asks again (`task wait` does). */
const MAX_HOLD_MS = 60_000;

const waitResult = z.object({
  outcome: z.enum(['done', 'failed', 'timeout']),
  tasks: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      status: z.enum(TASK_STATUSES),
      statusReason: z.string().nullable(),
    }),
  ),
  waitedMs: z.number(),
});

/** Waiting for tasks to finish, over HTTP: what an agent's `agentboard task wait` calls. */
export function waitRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/wait',
    tag: 'tasks',
    summary:
      'Hold the request until every task is Done (or Review with reviewOk), one is Blocked or Cancelled, or timeoutMs passes (at most 60 s: ask again to wait longer)',
    query: z.strictObject({
      tasks: listOf(taskRef).pipe(z.array(z.number()).min(1)),
      timeoutMs: intQuery(0, MAX_HOLD_MS).default(30_000),
      reviewOk: z.enum(['true', 'false']).default('false'),
    }),
    response: waitResult,
    handler: ({ query, reply }) => {
      // A client that hangs up stops the wait: nothing is held for nobody.
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      return waitForTasks(app, query.tasks, {
        timeoutMs: query.timeoutMs,
        reviewOk: query.reviewOk === 'true',
        signal: gone.signal,
      });
    },
  });
}
