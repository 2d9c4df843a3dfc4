import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listRunViews, showRun, transcriptPage } from '../../app/read-runs.js';
import { assertOutputKept } from '../../app/run-output.js';
import { resolveRun, startRun, stopRun } from '../../app/runs.js';
import {
  logRangeQuery,
  runEventsQuery,
  runListQuery,
  runParams,
  startRunBody,
  taskParams,
} from '../../contract/requests.js';
import { runView, transcriptPage as transcriptPageView } from '../../contract/views.js';
import type { ServerContext } from '../context.js';
import { readLogRange } from '../log-frames.js';

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
    query: runListQuery,
    response: z.object({ items: z.array(runView) }),
    handler: async ({ query }) => ({
      items: await listRunViews(app, {
        taskId: query.task,
        states: query.state,
        agent: query.agent,
        limit: query.limit,
      }),
    }),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/runs/:id',
    tag: 'runs',
    summary: 'One run: state, exit, error summary, usage and cost, resources',
    params: runParams,
    response: runView,
    handler: ({ params }) => showRun(app, params.id),
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

  routes.stream(f, {
    method: 'GET',
    url: '/api/v1/runs/:id/logs',
    tag: 'runs',
    summary:
      'A byte range of a run’s stdout or stderr, redacted; while the run writes, the range stops before what may be a secret in progress (X-Log-Size and X-Next-Offset say where to go on); 410 `output_removed` once gc removed it',
    params: runParams,
    query: logRangeQuery,
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
    query: runEventsQuery,
    response: transcriptPageView,
    handler: ({ params, query }) =>
      transcriptPage(app, params.id, { after: query.after, limit: query.limit, types: query.type }),
  });
}
