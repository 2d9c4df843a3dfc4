import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { assertOutputKept } from '../../app/run-output.js';
import { resolveRun, startRun, stopRun } from '../../app/runs.js';
import type { RunView } from '../../app/views.js';
import { runViews } from '../../app/workers.js';
import { readRunEvents } from '../../store/run-events.js';
import { listRuns } from '../../store/runs.js';
import type { ServerContext } from '../context.js';
import { readLogRange } from '../log-frames.js';
import {
  intQuery,
  listOf,
  runParams,
  runState,
  runView,
  startRunBody,
  taskParams,
  taskRef,
} from '../schemas.js';

const MiB = 1024 * 1024;

export function runRoutes(f: FastifyInstance, { app, routes, redact }: ServerContext): void {
  routes.add(f, {
    method: 'POST',
    url: '/api/v1/tasks/:id/runs',
    tag: 'runs',
    summary: 'Queue a run of the task (409 naming the active run if it has one)',
    params: taskParams,
    body: startRunBody,
    status: 202,
    response: runView,
    handler: ({ params, body }) =>
      startRun(app, params.id, { agent: body?.agent, prompt: body?.prompt, fresh: body?.fresh }),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/runs',
    tag: 'runs',
    summary: 'Runs, newest first, filtered by task, state and agent',
    query: z.strictObject({
      task: taskRef.optional(),
      state: listOf(runState).optional(),
      agent: z.string().min(1).max(64).optional(),
      limit: intQuery(1, 1000).default(100),
    }),
    response: z.object({ items: z.array(runView) }),
    handler: async ({ query }) => ({
      items: await runViews(
        app,
        await listRuns(app.store.db, {
          taskId: query.task,
          states: query.state,
          agent: query.agent,
          limit: query.limit,
        }),
      ),
    }),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/runs/:id',
    tag: 'runs',
    summary: 'One run: state, exit, error summary, usage and cost, resources',
    params: runParams,
    response: runView,
    handler: async ({ params }) =>
      (await runViews(app, [await resolveRun(app, params.id)]))[0] as RunView,
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/runs/:id/stop',
    tag: 'runs',
    summary: 'Stop a run: SIGTERM to its process group, SIGKILL after the grace',
    params: runParams,
    status: 202,
    response: runView,
    handler: ({ params }) => stopRun(app, params.id),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/runs/:id/logs',
    tag: 'runs',
    summary:
      'A byte range of a run’s stdout or stderr, redacted; while the run writes, the range stops before what may be a secret in progress (X-Log-Size and X-Next-Offset say where to go on); 410 `output_removed` once gc removed it',
    params: runParams,
    query: z.strictObject({
      stream: z.enum(['stdout', 'stderr']).default('stdout'),
      offset: intQuery(0, Number.MAX_SAFE_INTEGER).default(0),
      limit: intQuery(1, 8 * MiB).default(MiB),
    }),
    produces: 'text/plain',
    handler: async ({ params, query, reply }) => {
      const run = await resolveRun(app, params.id);
      assertOutputKept(run);
      const r = await readLogRange(app, redact, run.id, query.stream, query.offset, query.limit);
      reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('x-log-size', String(r.size))
        .header('x-next-offset', String(r.offset + r.bytes.length))
        .header('x-run-state', run.state);
      return reply.send(r.bytes);
    },
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/runs/:id/events',
    tag: 'runs',
    summary:
      'The run’s normalized transcript events after a cursor (the last seq seen); 410 `output_removed` once gc removed them',
    params: runParams,
    query: z.strictObject({
      after: intQuery(0, Number.MAX_SAFE_INTEGER).default(0),
      limit: intQuery(1, 1000).default(200),
      type: listOf(z.string().min(1).max(32)).optional(),
    }),
    handler: async ({ params, query }) => {
      const run = await resolveRun(app, params.id);
      assertOutputKept(run, 'transcript');
      const items = await readRunEvents(app.store.db, run.id, {
        afterSeq: query.after,
        limit: query.limit,
        types: query.type,
      });
      const last = items.at(-1)?.seq ?? query.after;
      return {
        items: items.map((e) => ({
          seq: e.seq,
          at: new Date(e.createdAt).toISOString(),
          ...e.event,
        })),
        next: last,
        more: items.length === query.limit,
      };
    },
  });
}
