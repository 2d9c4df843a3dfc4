import type { FastifyInstance } from 'fastify';
import { eventPage } from '../../app/read-events.js';
import { assertOutputKept, isRemoteLog, logLength } from '../../app/run-output.js';
import { resolveRun } from '../../app/runs.js';
import {
  eventStreamQuery,
  eventsQuery,
  logStreamQuery,
  runParams,
} from '../../contract/requests.js';
import { eventPage as eventPageView } from '../../contract/views.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../error-catalog.js';
import { EventFeed } from '../event-feed.js';
import { LogHub } from '../log-stream.js';
import { streamRemoteLog } from '../remote-log.js';
import { lastEventIdOf, SseRegistry } from '../sse.js';

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
    query: eventsQuery,
    response: eventPageView,
    handler: ({ query }) =>
      eventPage(app, { after: query.after, limit: query.limit, taskId: query.task }),
  });

  routes.stream(f, {
    method: 'GET',
    url: '/api/v1/events/stream',
    tag: 'events',
    summary:
      'SSE feed of board events (id, event type, JSON data); resumes after Last-Event-ID, or ?after on a first connect; `: ping` every 15 s',
    query: eventStreamQuery,
    produces: 'text/event-stream',
    handler: async ({ query, request, reply }) => {
      const after = lastEventIdOf(request) ?? query.after;
      const conn = streams.start(reply);
      feed.serve(conn, after).catch(() => conn.end());
      return reply;
    },
  });

  routes.stream(f, {
    method: 'GET',
    url: '/api/v1/runs/:id/logs/stream',
    tag: 'runs',
    summary:
      'SSE of a run’s live log: `log` events {offset, text} (id = byte offset after it), then `exit` once the run has ended; resumes from Last-Event-ID or ?offset; 410 `output_removed` once gc removed the log',
    params: runParams,
    query: logStreamQuery,
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
