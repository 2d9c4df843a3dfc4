import type { FastifyInstance } from 'fastify';
import { apiTokenVerifier, ensureApiToken } from '../app/api-token.js';
import type { App } from '../app/context.js';
import { boardRedactor } from '../app/secrets.js';
import { AgentboardError, ConfigError } from '../domain/errors.js';
import type { Engine } from '../engine/engine.js';
import { AuthFailureLimiter } from './auth-limiter.js';
import type { ServerMetrics } from './metrics.js';
import { loginCodesOf, loginUrl } from './routes/login.js';
import { agentApiUrl, isLoopback } from './security.js';
import { buildServer } from './server.js';

export interface HttpOptions {
  host?: string;
  port?: number;
  /** Filled in once this process's engine has started. */
  engine?: { current: Engine | null };
  /** Shared with the engine (its observer feeds them). */
  metrics?: ServerMetrics;
}

export interface RunningServer {
  server: FastifyInstance;
  url: string;
  /** token: every request needs the owner's token (in the home); none: no token, loopback only. */
  auth: 'token' | 'none';
  /** The home held an older version's hash-only token: this start replaced it with a readable one. */
  replacedHashToken: boolean;
  /** A URL that logs a browser in once (10 minutes); the board's own URL under `auth: none`. */
  loginUrl(): string;
}

/**
 * Builds the API and listens. With `server.auth: token` (the default) every
 * request needs the owner's token, on loopback too; `none` is refused
 * anywhere but loopback, where only this machine's users can reach it.
 */
export async function listenHttp(app: App, o: HttpOptions = {}): Promise<RunningServer> {
  const host = o.host ?? app.config.server.host;
  const port = o.port ?? app.config.server.port;
  const auth = app.config.server.auth;
  if (auth === 'none' && !isLoopback(host)) {
    throw new ConfigError(
      `server.auth: none (no API token) is allowed only on loopback, and this board would listen on ${host}: remove "auth: none" from server in ${app.paths.config}, or listen on 127.0.0.1`,
      { field: 'server.auth', host },
    );
  }
  // Made (or carried over from an older home) before the first request can need it.
  const ensured = auth === 'token' ? ensureApiToken(app.paths.home) : null;
  const server = buildServer({
    app,
    redact: boardRedactor(app),
    engine: o.engine,
    metrics: o.metrics,
    security: {
      bindHost: host,
      port,
      allowedHosts: app.config.server.allowed_hosts,
      allowedOrigins: app.config.server.allowed_origins,
      verifyToken: auth === 'token' ? apiTokenVerifier(app.paths.home) : null,
      // One table for wrong tokens and wrong login codes (routes/login.ts).
      authLimiter: new AuthFailureLimiter(),
    },
  });
  try {
    await server.listen({ host, port });
  } catch (e) {
    await server.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new AgentboardError(
        'port_in_use',
        `port ${port} on ${host} is in use (another agentboard serve?): stop it, or pass --port`,
      );
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new AgentboardError(
        'bad_host',
        `cannot listen on ${host}: not an address of this machine`,
      );
    }
    throw e;
  }
  const addr = server.server.address();
  const actualPort = typeof addr === 'object' && addr ? addr.port : port;
  const shown = host.includes(':') ? `[${host}]` : host;
  const url = `http://${shown}:${actualPort}`;
  // A browser reaches a wildcard bind through loopback, a name the Host check allows.
  const local = agentApiUrl(url);
  const codes = loginCodesOf(server);
  return {
    server,
    url,
    auth,
    replacedHashToken: ensured?.replacedHash ?? false,
    loginUrl: () => (auth === 'none' ? `${local}/` : loginUrl(local, codes.issue())),
  };
}
