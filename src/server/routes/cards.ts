import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { formatTaskId } from '../../domain/ids.js';
import { cardRuns } from '../../store/cards.js';
import type { ServerContext } from '../context.js';
import { taskRef } from '../schemas.js';

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

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
    })
    .nullable(),
});

/** What the board's cards show about runs, for a page of tasks at once. */
export function cardRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
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
      return {
        items: rows.map((c) => ({
          task: formatTaskId(c.taskId),
          runs: c.runs,
          costUsd: c.costUsd,
          run: c.latest && {
            ...c.latest,
            startedAt: iso(c.latest.startedAt),
            endedAt: iso(c.latest.endedAt),
            lastOutputAt: iso(c.latest.lastOutputAt),
          },
        })),
      };
    },
  });
}
