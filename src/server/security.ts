import os from 'node:os';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { looksLikeRunToken, type RunPrincipal } from '../app/run-token.js';
import { PAGE_ROUTES, routesPattern } from '../contract/pages.js';
import { AuthFailureLimiter, countAuthFailure } from './auth-limiter.js';
import { HttpError } from './error-catalog.js';
import { outsideRunScope } from './run-scope.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request came with a run's own token: what it may do is scoped to that run's task. */
    runPrincipal?: RunPrincipal;
  }
  interface FastifyContextConfig {
    /** The route takes writes from a run's token (it declares the task they touch). */
    runScoped?: boolean;
  }
}

export interface SecurityOptions {
  /** The address the server listens on. */
  bindHost: string;
  /** The port it listens on: a state-changing request must come from this very origin. */
  port: number;
  /** Extra names the server may be reached by (a reverse proxy's, a LAN name). */
  allowedHosts: string[];
  /** Extra origins allowed to make state-changing requests (e.g. a dev server). */
  allowedOrigins: string[];
  /** Checks a presented owner token; null when none is required (`server.auth: none`). */
  verifyToken: ((token: string) => boolean) | null;
  /** Checks a run's own token (app/run-token.ts), whatever `verifyToken` is; none accepted when absent. */
  authenticateRun?: (token: string) => Promise<RunPrincipal | null>;
  /** Failed authentications allowed per client address per minute. */
  authFailuresPerMinute?: number;
  /** The failed-authentication table (tests pass one to look at it); made from the above if absent. */
  authLimiter?: AuthFailureLimiter;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '::1'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/**
 * The header a state-changing request without a JSON body must carry. A
 * browser sends a custom header cross-origin only after a CORS preflight,
 * which this server never grants: no simple cross-site form or fetch can
 * carry it. The web board sends it on every write.
 */
export const REQUEST_HEADER = 'X-Agentboard-Request';
/** Routes that need no token at all (a liveness probe). */
export const OPEN_ROUTES: ReadonlySet<string> = new Set(['/healthz']);
/** The board page's shell and assets hold no data: they load without a token, to show its login form. */
const OPEN_PAGE = routesPattern([...PAGE_ROUTES, '/assets/:file', '/favicon.svg']);

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return LOOPBACK_NAMES.includes(h) || /^127\./.test(h) || h === '::ffff:127.0.0.1';
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::' || host === '';
}

/**
 * The address this board's agents call back on: the listening URL, with a
 * wildcard bind (`0.0.0.0`, `::`) reached through loopback, the one address
 * that is surely this machine's.
 */
export function agentApiUrl(listenUrl: string): string {
  const u = new URL(listenUrl);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (isWildcard(host)) u.hostname = host === '::' ? '[::1]' : '127.0.0.1';
  return u.origin;
}

/** Every name a legitimate client can put in Host: loopback, the bind address, and configured names. */
export function allowedHostNames(
  o: Pick<SecurityOptions, 'bindHost' | 'allowedHosts'>,
): Set<string> {
  const names = new Set<string>(LOOPBACK_NAMES);
  const add = (h: string) => names.add(h.replace(/^\[|\]$/g, '').toLowerCase());
  if (isWildcard(o.bindHost)) {
    // Listening everywhere: each local interface address, and this machine's name.
    add(os.hostname());
    for (const list of Object.values(os.networkInterfaces())) {
      for (const a of list ?? []) add(a.address);
    }
  } else {
    add(o.bindHost);
  }
  for (const h of o.allowedHosts) add(h);
  return names;
}

/** The host part of a Host header or URL authority, lower-cased, without port or brackets. */
export function hostnameOf(authority: string): string | null {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(authority.trim());
  if (!m) return null;
  return (m[1] ?? m[2] ?? '').toLowerCase();
}

function bearerOf(req: FastifyRequest): string {
  const h = req.headers.authorization;
  if (typeof h === 'string' && /^Bearer\s+/i.test(h)) return h.replace(/^Bearer\s+/i, '').trim();
  const cookie = req.headers.cookie;
  const m = typeof cookie === 'string' ? /(?:^|;\s*)agentboard_token=([^;]+)/.exec(cookie) : null;
  return m?.[1] ? decodeURIComponent(m[1]) : '';
}

/**
 * Host allow-list (DNS rebinding), Origin check and JSON-or-custom-header
 * rule on state-changing requests (CSRF), Bearer token when not on loopback,
 * and a limit on failed authentications per client address.
 */
export function installSecurity(fastify: FastifyInstance, o: SecurityOptions): void {
  const hosts = allowedHostNames(o);
  const origins = new Set(o.allowedOrigins.map((x) => x.toLowerCase().replace(/\/$/, '')));
  const limiter = o.authLimiter ?? new AuthFailureLimiter({ limit: o.authFailuresPerMinute ?? 20 });
  fastify.addHook('onRequest', async (req, reply) => {
    const host = hostnameOf(String(req.headers.host ?? ''));
    if (!host || !hosts.has(host)) {
      throw new HttpError(
        'host_not_allowed',
        `Host "${req.headers.host ?? ''}" is not allowed: reach the board by an allowed name, or add it to server.allowed_hosts in config.yaml`,
      );
    }
    // Listening on port 0 (a free one): the port is the one the request came in on.
    const port = o.port === 0 ? (req.socket.localPort ?? 0) : o.port;
    const path = req.url.split('?')[0] ?? '';
    if (!SAFE_METHODS.has(req.method)) {
      checkOrigin(req, hosts, origins, port);
      checkNotSimple(req, path);
    }
    const open = OPEN_ROUTES.has(path) || (req.method === 'GET' && OPEN_PAGE.test(path));
    const presented = bearerOf(req);
    // A run's token is judged as one wherever it is presented, even where no
    // token is needed: an agent is scoped to its task on every board.
    if (looksLikeRunToken(presented) && !open) {
      const principal = (await o.authenticateRun?.(presented)) ?? null;
      if (principal) {
        req.runPrincipal = principal;
        return;
      }
    } else if (!o.verifyToken || open) {
      return;
    } else if (o.verifyToken(presented)) {
      // A right token always passes: the limit is on failures, and must not
      // lock the owner out of an address someone else is failing from.
      return;
    }
    countAuthFailure(limiter, req, reply, 'send the right token');
    reply.header('www-authenticate', 'Bearer realm="agentboard"');
    throw looksLikeRunToken(presented)
      ? new HttpError(
          'unauthorized',
          'this run token is not valid: a run’s token works only while its run is active',
        )
      : new HttpError(
          'unauthorized',
          'this board needs its API token: send "Authorization: Bearer <token>" (`agentboard token show` prints it)',
        );
  });
  // After routing, before the handler: a run's token writes only through the
  // routes that declare what they touch (route.ts `runScope`), which then check it.
  fastify.addHook('preHandler', async (req) => {
    const principal = req.runPrincipal;
    if (!principal || SAFE_METHODS.has(req.method) || req.routeOptions.config?.runScoped) return;
    throw outsideRunScope(principal, `${req.method} ${req.url.split('?')[0] ?? ''}`);
  });
}

function checkOrigin(
  req: FastifyRequest,
  hosts: Set<string>,
  origins: Set<string>,
  port: number,
): void {
  const fetchSite = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  if (origin === undefined) {
    if (fetchSite === 'cross-site') throw foreignOrigin('a cross-site request');
    return;
  }
  const o = String(origin).toLowerCase();
  if (origins.has(o)) return;
  let same = false;
  try {
    const u = new URL(o);
    const web = u.protocol === 'http:' || u.protocol === 'https:';
    const uPort = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
    const host = hostnameOf(u.host);
    same = web && host !== null && hosts.has(host) && uPort === port;
  } catch {
    same = false;
  }
  if (!same) throw foreignOrigin(`Origin ${origin}`);
}

/**
 * A state-changing request must be one a browser would only send cross-origin
 * after a CORS preflight: JSON content, or the custom header. A cross-site
 * form or a no-Origin `text/plain` fetch is neither, so it never gets here.
 * Paths outside the API (the page, /healthz) take no writes: the rule covers
 * every state-changing method on every path, so no spelling of a path
 * (`//api`, `%61pi`) can route around it.
 */
function checkNotSimple(req: FastifyRequest, path: string): void {
  const type = req.headers['content-type'];
  const media = typeof type === 'string' ? (type.split(';')[0] ?? '').trim().toLowerCase() : '';
  if (media === 'application/json') return;
  const marker = req.headers[REQUEST_HEADER.toLowerCase()];
  if (typeof marker === 'string' && marker.trim() !== '') return;
  const what = `${req.method} ${path}`;
  if (media !== '') {
    throw new HttpError(
      'unsupported_media_type',
      `${what} does not take ${media}: send a JSON body with Content-Type: application/json, or, with no body, the header "${REQUEST_HEADER}: 1"`,
      { contentType: media, header: REQUEST_HEADER },
    );
  }
  throw new HttpError(
    'request_header_required',
    `${what} changes the board: send the header "${REQUEST_HEADER}: 1" (or a JSON body with Content-Type: application/json), so that no cross-site form can make this request`,
    { header: REQUEST_HEADER },
  );
}

function foreignOrigin(what: string): HttpError {
  return new HttpError(
    'origin_not_allowed',
    `${what} may not change this board: use the board's own page, or add the origin to server.allowed_origins in config.yaml`,
  );
}
