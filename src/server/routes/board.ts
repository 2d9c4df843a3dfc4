import type { FastifyInstance } from 'fastify';
import { cardViews } from '../../app/read-board.js';
import { recentEvents } from '../../app/read-events.js';
import { cardsQuery, recentEventsQuery } from '../../contract/requests.js';
import { cardList, recentEvents as recentEventsView } from '../../contract/views.js';
import type { ServerContext } from '../context.js';

/**
 * What the web board needs besides the core API: run summaries for a page of
 * cards at once, and the latest board events (the activity panel's history,
 * and where the live feed takes over).
 */
export function boardRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/events/recent',
    tag: 'events',
    summary:
      'The latest `limit` board events, oldest first, and the last id (resume the SSE feed with ?after=last)',
    query: recentEventsQuery,
    response: recentEventsView,
    handler: ({ query }) => recentEvents(app, query.limit),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/cards',
    tag: 'tasks',
    summary:
      'Run summaries for board cards: each task’s latest run (state, attempt, last output), run count and total cost',
    query: cardsQuery,
    response: cardList,
    handler: async ({ query }) => ({ items: await cardViews(app, query.task) }),
  });
}
