import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { isUnsupervised } from '../../app/views.js';
import { supervision } from '../../app/workers.js';
import { formatTaskId } from '../../domain/ids.js';
import { cardRuns } from '../../store/cards.js';
import { lastEventId, readEvents } from '../../store/events.js';
import type { ServerContext } from '../context.js';
import { eventView } from '../event-feed.js';
import { intQuery, taskRef } from '../schemas.js';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** The card does not show the lease itself, only what it means. */
function withoutLease<T extends { leaseExpiresAt: number | null }>(
  run: T,
): Omit<T, 'leaseExpiresAt'> {
  const { leaseExpiresAt: _, ...rest } = run;
  return rest;
}

const cardView = z.object({
  task: z.string(),
  runs: z.number(),
  costUsd: z.number(),
  run: z
    .object({
      id: z.string(),
      state: z.string(),
      agent: z.string(),
      attempt: z.number(),
      maxAttempts: z.number(),
      iteration: z.number(),
      startedAt: z.string().nullable(),
      endedAt: z.string().nullable(),
      lastOutputAt: z.string().nullable(),
      exitCode: z.number().nullable(),
      errorSummary: z.string().nullable(),
      stalled: z.boolean(),
      notice: z.string().nullable(),
      denials: z.number(),
      /** Claimed or running, its lease expired, and no engine alive to look after it. */
      unsupervised: z.boolean(),
    })
    .nullable(),
});

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
    query: z.strictObject({ limit: intQuery(1, 1000).default(100) }),
    handler: async ({ query }) => {
      const last = await lastEventId(app.store.db);
      // Event ids are gap-free, so the last `limit` events are exactly those after last - limit.
      const items = await readEvents(app.store.db, {
        after: Math.max(0, last - query.limit),
        limit: query.limit,
      });
      return { items: items.map(eventView), last };
    },
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/cards',
    tag: 'tasks',
    summary:
      'Run summaries for board cards: each task’s latest run (state, attempt, last output), run count and total cost',
    query: z.strictObject({
      task: z.preprocess(
        (v) => (typeof v === 'string' ? v.split(',') : v),
        z.array(taskRef).min(1).max(500),
      ),
    }),
    response: z.object({ items: z.array(cardView) }),
    handler: async ({ query }) => {
      const rows = await cardRuns(app.store.db, [...new Set(query.task)]);
      const watched = await supervision(app);
      return {
        items: rows.map((c) => ({
          task: formatTaskId(c.taskId),
          runs: c.runs,
          costUsd: c.costUsd,
          run: c.latest && {
            ...withoutLease(c.latest),
            unsupervised: isUnsupervised(
              { state: c.latest.state, lease_expires_at: c.latest.leaseExpiresAt },
              watched,
            ),
            startedAt: iso(c.latest.startedAt),
            endedAt: iso(c.latest.endedAt),
            lastOutputAt: iso(c.latest.lastOutputAt),
          },
        })),
      };
    },
  });
}
