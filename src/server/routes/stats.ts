import type { FastifyInstance } from 'fastify';
import { boardStats } from '../../app/stats.js';
import { statsQuery } from '../../contract/requests.js';
import { statsView } from '../../contract/service-views.js';
import type { ServerContext } from '../context.js';

/** Success rate, durations and cost by agent and day. */
export function statsRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/stats',
    tag: 'stats',
    summary:
      'Over the last `days` UTC days (by when runs ended): success rate, duration percentiles, outcomes per day, cost per agent and day; and the queue now',
    query: statsQuery,
    response: statsView,
    handler: ({ query }) => boardStats(app, { days: query.days, agent: query.agent }),
  });
}
