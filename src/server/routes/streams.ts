import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { assertOutputKept, isRemoteLog, logLength } from '../../app/run-output.js';
import { resolveRun } from '../../app/runs.js';
import { readEvents } from '../../store/events.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../error-catalog.js';
import { EventFeed, eventView } from '../event-feed.js';
import { LogHub } from '../log-stream.js';
import { streamRemoteLog } from '../remote-log.js';
import { intQuery, runParams, taskRef } from '../schemas.js';
import { lastEventIdOf, SseRegistry } from '../sse.js';

const cursor = intQuery(0, Number.MAX_SAFE_INTEGER);

const eventItem = z.object({
  id: z.number(),
  type: z.string(),
  taskId: z.string().nullable(),
  runId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
});

/**
 * SSE: the board event feed and a run's live log. Both resume where the
 * client left off (`Last-Event-ID`), across reconnects and server restarts:
 * the events table and the log file are the streams, not memory.
 */
export function streamRoutes(
  f: FastifyInstance,
  { app, routes, redact, sse }: ServerContext,
): void {
  const streams = new SseRegistry(sse);
  const feed = new EventFeed(app, redact, sse);
  const logs = new LogHub({ app, redact, options: sse });
  f.addHook('preClose', async () => {
    streams.closeAll();
    feed.close();
    logs.close();
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/events',
    tag: 'events',
    summary: 'Board events after a cursor (the last id seen), oldest first',
    query: z.strictObject({
      after: cursor.default(0),
      limit: intQuery(1, 1000).default(200),
      task: taskRef.optional(),
    }),
    response: z.object({ items: z.array(eventItem), next: z.number(), more: z.boolean() }),
    handler: async ({ query }) => {
      const items = await readEvents(app.store.db, {
        after: query.after,
        limit: query.limit,
        taskId: query.task,
      });
      return {
        items: items.map(eventView),
        next: items.at(-1)?.id ?? query.after,
        more: items.length === query.limit,
      };
    },
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/events/stream',
    tag: 'events',
    summary:
      'SSE feed of board events (id, event type, JSON data); resumes after Last-Event-ID, or ?after on a first connect; `: ping` every 15 s',
    query: z.strictObject({ after: cursor.optional() }),
    produces: 'text/event-stream',
    handler: async ({ query, request, reply }) => {
      const after = lastEventIdOf(request) ?? query.after;
      const conn = streams.start(reply);
      feed.serve(conn, after).catch(() => conn.end());
      return reply;
    },
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/runs/:id/logs/stream',
    tag: 'runs',
    summary:
      'SSE of a run’s live log: `log` events {offset, text} (id = byte offset after it), then `exit` once the run has ended; resumes from Last-Event-ID or ?offset; 410 `output_removed` once gc removed the log',
    params: runParams,
    query: z.strictObject({
      stream: z.enum(['stdout', 'stderr']).default('stdout'),
      offset: cursor.optional(),
    }),
    produces: 'text/event-stream',
    handler: async ({ params, query, request, reply }) => {
      const run = await resolveRun(app, params.id);
      // Before the stream starts: an EventSource cannot read an error sent inside it.
      assertOutputKept(run);
      const offset = lastEventIdOf(request) ?? query.offset ?? 0;
      const size = await logLength(app, run.id, query.stream);
      if (offset > size) {
        throw new HttpError(
          'range_not_satisfiable',
          `offset ${offset} is past the end of the ${query.stream} log (${size} bytes): resume from an offset up to ${size}`,
          { field: 'offset', size },
        );
      }
      const conn = streams.start(reply);
      if (isRemoteLog(app, run.id, query.stream)) {
        streamRemoteLog(app, redact, run.id, query.stream, offset, conn).catch(() => conn.end());
      } else {
        logs.subscribe(run.id, query.stream, offset, conn);
      }
      return reply;
    },
  });
}
