import http from 'node:http';
import type { Socket } from 'node:net';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { App } from '../app/context.js';
import { authenticateRunToken } from '../app/run-token.js';
import { health } from '../contract/service-views.js';
import { VERSION } from '../contract/version.js';
import { AgentboardError } from '../domain/errors.js';
import type { Redactor } from '../domain/redact.js';
import type { Engine } from '../engine/engine.js';
import type { ServerContext } from './context.js';
import { BODY_LIMIT_BYTES, HttpError, respond, toErrorResponse } from './error-catalog.js';
import { createMetrics, type ServerMetrics } from './metrics.js';
import { buildOpenApi } from './openapi.js';
import { RouteRegistry, type RouteSpec } from './route.js';
import { agentRoutes } from './routes/agents.js';
import { approvalRoutes } from './routes/approvals.js';
import { boardRoutes } from './routes/board.js';
import { loginRoutes } from './routes/login.js';
import { messageRoutes } from './routes/messages.js';
import { metricsRoutes } from './routes/metrics.js';
import { reviewRoutes } from './routes/review.js';
import { runRoutes } from './routes/runs.js';
import { scheduleRoutes } from './routes/schedules.js';
import { statsRoutes } from './routes/stats.js';
import { streamRoutes } from './routes/streams.js';
import { taskRoutes } from './routes/tasks.js';
import { treeRoutes } from './routes/tree.js';
import { waitRoutes } from './routes/wait.js';
import { webRoutes } from './routes/web.js';
import { workspaceRoutes } from './routes/workspaces.js';
import { runScopeCheck } from './run-scope.js';
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
  waitRoutes,
  scheduleRoutes,
  metricsRoutes,
  boardRoutes,
  workspaceRoutes,
  approvalRoutes,
  reviewRoutes,
  webRoutes,
];

export const BODY_LIMIT = BODY_LIMIT_BYTES;

/** The methods a 405 may name in its Allow header. */
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

/** Every route a server registered (its own API's and Fastify's plain ones), for the contract test. */
export interface RouteTable {
  /** The API's routes, with their schemas (route.ts). */
  specs: readonly RouteSpec[];
  /** Every method and URL registered, API or not. */
  all: readonly { method: string; url: string }[];
}

const routeTables = new WeakMap<FastifyInstance, RouteTable>();

/** The routes `f` registered: what /openapi.json is built from, and everything else. */
export function routeTableOf(f: FastifyInstance): RouteTable | undefined {
  return routeTables.get(f);
}

/** The HTTP API: every route, its security, its error catalog. Not listening yet. */
export function buildServer(o: ServerOptions): FastifyInstance {
  const logError = o.logError ?? ((line: string) => process.stderr.write(`${line}\n`));
  // Every error answer, Fastify's own included, leaves through here: one shape, redacted.
  const sendError = (err: unknown, method: string, url: string, reply: FastifyReply) => {
    const { status, body } = toErrorResponse(err);
    if (status >= 500 && !(err instanceof HttpError)) {
      // A typed error (a full disk, a locked database) says all in one line; an unexpected one needs its stack.
      const what =
        err instanceof AgentboardError ? err.message : ((err as Error)?.stack ?? String(err));
      logError(o.redact.text(`${method} ${url}: ${what}`));
    }
    return reply.code(status).type('application/json; charset=utf-8').send(o.redact.value(body));
  };
  const f = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    routerOptions: { maxParamLength: 200 },
    // SSE clients must not hold a shutdown open.
    forceCloseConnections: true,
    // A request that arrives while closing gets a catalog 503 (below), not Fastify's own body.
    return503OnClosing: false,
    // A URL the router cannot even decode (bad percent-encoding, an over-long segment).
    frameworkErrors: (err, req, reply) => sendError(err, req.method, req.url, reply),
    // A request Node's HTTP parser refuses never reaches Fastify: answer it in the same shape.
    clientErrorHandler: (err, socket) => answerClientError(err, socket),
  });
  const engine = o.engine ?? { current: null };
  const ctx: ServerContext = {
    app: o.app,
    routes: new RouteRegistry(runScopeCheck(o.app)),
    redact: o.redact,
    sse: { ...DEFAULT_SSE_OPTIONS, ...o.sse },
    engine,
    metrics: o.metrics ?? createMetrics({ app: o.app, engine }),
  };

  const all: { method: string; url: string }[] = [];
  f.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) all.push({ method, url: r.url });
  });
  routeTables.set(f, { specs: ctx.routes.specs, all });

  let closing = false;
  f.addHook('preClose', async () => {
    closing = true;
  });
  f.addHook('onRequest', async () => {
    if (closing) {
      throw new HttpError('unavailable', 'the server is shutting down: retry in a moment');
    }
  });
  installSecurity(f, {
    authenticateRun: (token) => authenticateRunToken(o.app, token),
    ...o.security,
  });

  f.setErrorHandler((err, req, reply) => sendError(err, req.method, req.url, reply));
  f.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? '';
    const allow = METHODS.filter((m) => m !== req.method && f.findRoute({ method: m, url: path }));
    if (allow.length > 0) {
      reply.header('allow', allow.join(', '));
      return sendError(
        new HttpError(
          'method_not_allowed',
          `${path} does not take ${req.method}: use ${allow.join(', ')} (see /openapi.json)`,
          { allow },
        ),
        req.method,
        req.url,
        reply,
      );
    }
    return sendError(
      new HttpError(
        'route_not_found',
        `no route ${req.method} ${path}: see /openapi.json for the API`,
      ),
      req.method,
      req.url,
      reply,
    );
  });
  // Every JSON response passes through here: no secret leaves in a response body.
  f.addHook('preSerialization', async (_req, _reply, payload) => o.redact.value(payload));

  for (const add of ROUTE_MODULES) add(f, ctx);
  loginRoutes(f, ctx, o.security);

  ctx.routes.add(f, {
    method: 'GET',
    url: '/healthz',
    tag: 'service',
    summary: 'Liveness: the process answers and the store is reachable',
    response: health,
    handler: async () => {
      await o.app.store.ping();
      return { ok: true as const, version: VERSION, engine: engine.current !== null };
    },
  });
  f.get('/openapi.json', async () => buildOpenApi(ctx.routes, VERSION));
  return f;
}

/** The catalog's answer to a request Node could not parse, written straight to the socket. */
function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const { status, body } =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? respond(
          'headers_too_large',
          'the request headers are over the size limit: send fewer or shorter headers (cookies included)',
        )
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? respond('invalid_request', 'the request did not arrive in time: send it again')
        : respond('invalid_request', 'the request is not valid HTTP: check the client sending it');
  const text = JSON.stringify(body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? 'Error'}\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  }
  socket.destroy(err);
}
