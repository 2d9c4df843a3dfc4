import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { boardStats } from '../../app/stats.js';
import type { ServerContext } from '../context.js';
import { intQuery } from '../schemas.js';

const outcomes = {
  succeeded: z.number(),
  failed: z.number(),
  timed_out: z.number(),
  cancelled: z.number(),
  lost: z.number(),
};
const success = z.object({ ...outcomes, ended: z.number(), rate: z.number().nullable() });

const statsView = z.object({
  since: z.string(),
  days: z.number(),
  agent: z.string().nullable(),
  queue: z.object({ queued: z.number(), runnable: z.number() }),
  success: z.object({
    overall: success,
    byAgent: z.array(success.extend({ agent: z.string() })),
  }),
  durations: z.array(
    z.object({
      agent: z.string(),
      runs: z.number(),
      p50Ms: z.number(),
      p90Ms: z.number(),
      p99Ms: z.number(),
    }),
  ),
  daily: z.array(z.object({ day: z.string(), ...outcomes })),
  cost: z.array(
    z.object({
      day: z.string(),
      agent: z.string(),
      runs: z.number(),
      costUsd: z.number(),
      tokensIn: z.number(),
      tokensOut: z.number(),
    }),
  ),
});

/** Success rate, durations and cost by agent and day. */
export function statsRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/stats',
    tag: 'stats',
    summary:
      'Over the last `days` UTC days (by when runs ended): success rate, duration percentiles, outcomes per day, cost per agent and day; and the queue now',
    query: z.strictObject({
      days: intQuery(1, 366).default(30),
      agent: z.string().min(1).max(64).optional(),
    }),
    response: statsView,
    handler: ({ query }) => boardStats(app, { days: query.days, agent: query.agent }),
  });
}
