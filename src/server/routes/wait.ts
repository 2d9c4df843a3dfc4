import type { FastifyInstance } from 'fastify';
import { waitForTasks } from '../../app/wait.js';
import { waitQuery } from '../../contract/requests.js';
import { waitResult } from '../../contract/views.js';
import type { ServerContext } from '../context.js';

/** Waiting for tasks to finish, over HTTP: what an agent's `agentboard task wait` calls. */
export function waitRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/wait',
    tag: 'tasks',
    summary:
      'Hold the request until every task is Done (or Review with reviewOk), one is Blocked or Cancelled, or timeoutMs passes (at most 60 s: ask again to wait longer)',
    query: waitQuery,
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
