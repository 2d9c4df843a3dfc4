import { readFileSync } from 'node:fs';
import Fastify, { type FastifyInstance } from 'fastify';
import type { App } from '../app/context.js';
import type { Redactor } from '../domain/redact.js';
import type { Engine } from '../engine/engine.js';
import type { ServerContext } from './context.js';
import { HttpError, toErrorResponse } from './error-catalog.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { buildOpenApi } from './openapi.js';
import { RouteRegistry } from './route.js';
import { agentRoutes } from './routes/agents.js';
import { boardRoutes } from './routes/board.js';
import { messageRoutes } from './routes/messages.js';
import { metricsRoutes } from './routes/metrics.js';
import { runRoutes } from './routes/runs.js';
import { scheduleRoutes } from './routes/schedules.js';
import { statsRoutes } from './routes/stats.js';
import { streamRoutes } from './routes/streams.js';
import { taskRoutes } from './routes/tasks.js';
import { treeRoutes } from './routes/tree.js';
import { webRoutes } from './routes/web.js';
import { workspaceRoutes } from './routes/workspaces.js';
import { installSecurity, type SecurityOptions } from './security.js';
import { DEFAULT_SSE_OPTIONS, type SseOptions } from './sse.js';

export interface ServerOptions {
  app: App;
  redact: Redactor;
  security: SecurityOptions;
  /** This process's engine, set once it has started (metrics and health read it). */
  engine?: { current: Engine | null };
  /** The metrics whose observer the engine was started with; a fresh set by default. */
  metrics?: ServerMetrics;
  /** Where 500s are reported; stderr by default. */
  logError?: (line: string) => void;
  /** Event-stream timings (heartbeat, polls); tests shorten them. */
  sse?: Partial<SseOptions>;
}

const ROUTE_MODULES = [
  taskRoutes,
  runRoutes,
  streamRoutes,
  agentRoutes,
  statsRoutes,
  messageRoutes,
  treeRoutes,
  scheduleRoutes,
  metricsRoutes,
  boardRoutes,
  workspaceRoutes,
  webRoutes,
];

export const BODY_LIMIT = 2 * 1024 * 1024;

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

/** The HTTP API: every route, its security, its error catalog. Not listening yet. */
export function buildServer(o: ServerOptions): FastifyInstance {
  const f = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 200 },
    // SSE clients must not hold a shutdown open.
    forceCloseConnections: true,
    return503OnClosing: true,
  });
  const engine = o.engine ?? { current: null };
  const ctx: ServerContext = {
    app: o.app,
    routes: new RouteRegistry(),
    redact: o.redact,
    sse: { ...DEFAULT_SSE_OPTIONS, ...o.sse },
    engine,
    metrics: o.metrics ?? createMetrics({ app: o.app, engine }),
  };
  const logError = o.logError ?? ((line: string) => process.stderr.write(`${line}\n`));

  installSecurity(f, o.security);

  f.setErrorHandler((err, req, reply) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500) {
      logError(o.redact.text(`${req.method} ${req.url}: ${(err as Error).stack ?? String(err)}`));
    }
    return reply.code(status).type('application/json').send(o.redact.value(body));
  });
  f.setNotFoundHandler((req, reply) => {
    const { status, body } = toErrorResponse(
      new HttpError(
        'route_not_found',
        `no route ${req.method} ${req.url.split('?')[0]}: see /openapi.json for the API`,
      ),
    );
    return reply.code(status).send(body);
  });
  // Every JSON response passes through here: no secret leaves in a response body.
  f.addHook('preSerialization', async (_req, _reply, payload) => o.redact.value(payload));

  for (const add of ROUTE_MODULES) add(f, ctx);

  ctx.routes.add(f, {
    method: 'GET',
    url: '/healthz',
    tag: 'service',
    summary: 'Liveness: the process answers and the store is reachable',
    handler: async () => {
      await o.app.store.ping();
      return { ok: true, version: VERSION, engine: engine.current !== null };
    },
  });
  f.get('/openapi.json', async () => buildOpenApi(ctx.routes, VERSION));
  return f;
}
