/**
 * Logging in without typing the token, as Jupyter does: `serve`, `start`
 * and `agentboard open` print a one-time URL, /login?code=…, whose code the
 * server process holds for ten minutes. Opening it once sets the board's
 * HttpOnly cookie to the owner token and lands on the board.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ensureApiToken } from '../../app/api-token.js';
import { loginLink, session } from '../../contract/service-views.js';
import { AuthFailureLimiter, countAuthFailure } from '../auth-limiter.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../error-catalog.js';
import { refusedToRun } from '../run-scope.js';
import type { SecurityOptions } from '../security.js';
import { sendBoardPage } from './web.js';

export const LOGIN_CODE_TTL_MS = 10 * 60_000;
/** Unused codes held at once: each `agentboard open` makes one, so this is plenty. */
const MAX_CODES = 100;
export const TOKEN_COOKIE = 'agentboard_token';

function keyOf(code: string): string {
  return createHash('sha256').update(code, 'utf8').digest('hex');
}

/** The server's unused one-time codes: each works once, until it expires. */
export class LoginCodes {
  /** sha256(code) -> expiry (epoch ms); Map order is issue order, so expiry order. */
  private readonly codes = new Map<string, number>();

  constructor(private readonly ttlMs = LOGIN_CODE_TTL_MS) {}

  get size(): number {
    return this.codes.size;
  }

  issue(now = Date.now()): string {
    this.prune(now);
    const code = randomBytes(24).toString('base64url');
    this.codes.set(keyOf(code), now + this.ttlMs);
    if (this.codes.size > MAX_CODES) {
      const oldest = this.codes.keys().next().value;
      if (oldest !== undefined) this.codes.delete(oldest);
    }
    return code;
  }

  /** Whether `code` is one of ours, unexpired and unused; after this call it is used. */
  take(code: string, now = Date.now()): boolean {
    const key = keyOf(code);
    const until = this.codes.get(key);
    this.codes.delete(key);
    return until !== undefined && until > now;
  }

  private prune(now: number): void {
    for (const [key, until] of this.codes) {
      if (until > now) break;
      this.codes.delete(key);
    }
  }
}

const codesByServer = new WeakMap<FastifyInstance, LoginCodes>();

/** The one-time codes `f` accepts at /login (listen.ts issues the first one). */
export function loginCodesOf(f: FastifyInstance): LoginCodes {
  let codes = codesByServer.get(f);
  if (!codes) {
    codes = new LoginCodes();
    codesByServer.set(f, codes);
  }
  return codes;
}

/** The URL that logs a browser in once: `base` is the board's own, e.g. http://127.0.0.1:4317 */
export function loginUrl(base: string, code: string): string {
  return `${base}/login?code=${encodeURIComponent(code)}`;
}

/** HttpOnly: no script on the page can read the token; Strict: no other site's request carries it. */
function tokenCookie(token: string, req: FastifyRequest): string {
  const secure = req.protocol === 'https' ? '; Secure' : '';
  return `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=31536000${secure}`;
}

/**
 * GET /login?code= (the exchange), POST /api/v1/login-links (a fresh
 * one-time URL, for `agentboard open`) and POST /api/v1/session (the login
 * form: the token it sends becomes the HttpOnly cookie). A code that fails
 * counts against the failed-authentication limit, as a wrong token does.
 */
export function loginRoutes(
  f: FastifyInstance,
  { app, routes }: ServerContext,
  security: SecurityOptions,
): void {
  const codes = loginCodesOf(f);
  const tokenRequired = security.verifyToken !== null;
  // The same table as the token check when the server was given one (listen.ts always is).
  const limiter =
    security.authLimiter ?? new AuthFailureLimiter({ limit: security.authFailuresPerMinute ?? 20 });
  const setOwnerCookie = (req: FastifyRequest, reply: FastifyReply) => {
    if (!tokenRequired) return;
    reply.header('set-cookie', tokenCookie(ensureApiToken(app.paths.home).token, req));
  };

  f.get<{ Querystring: Record<string, unknown> }>('/login', async (req, reply) => {
    const code = req.query.code;
    if (code === undefined) return sendBoardPage(reply);
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    // auth: none has no token and no codes: any link simply opens the board.
    if (!tokenRequired) return reply.code(303).header('location', '/').send();
    if (typeof code === 'string' && codes.take(code)) {
      setOwnerCookie(req, reply);
      return reply.code(303).header('location', '/').send();
    }
    countAuthFailure(limiter, req, reply, 'run `agentboard open` for a new login link');
    throw new HttpError(
      'unauthorized',
      'this login link was used already, has expired (links last 10 minutes) or was not made by this server: run `agentboard open` for a new one, or paste the token `agentboard token show` prints into the board’s login form',
    );
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/login-links',
    tag: 'service',
    summary:
      'A one-time URL that logs a browser in to the board (the owner’s token only; it works once, for 10 minutes)',
    status: 201,
    response: loginLink,
    handler: async ({ request }) => {
      if (request.runPrincipal) throw refusedToRun(request, 'make login links');
      const base = `${request.protocol}://${request.host}`;
      if (!tokenRequired) return { url: `${base}/`, expiresAt: null };
      const now = Date.now();
      return {
        url: loginUrl(base, codes.issue(now)),
        expiresAt: new Date(now + LOGIN_CODE_TTL_MS).toISOString(),
      };
    },
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/session',
    tag: 'service',
    summary:
      'Keep the owner’s token, sent as Bearer, in the board’s HttpOnly cookie (the web board’s login form)',
    response: session,
    handler: async ({ request, reply }) => {
      if (request.runPrincipal) throw refusedToRun(request, 'log a browser in');
      setOwnerCookie(request, reply);
      return { loggedIn: true as const };
    },
  });
}
