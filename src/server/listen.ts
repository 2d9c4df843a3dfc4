import type { FastifyInstance } from 'fastify';
import { apiTokenVerifier, ensureApiToken } from '../app/api-token.js';
import type { App } from '../app/context.js';
import { boardRedactor } from '../app/secrets.js';
import { AgentboardError } from '../domain/errors.js';
import type { Engine } from '../engine/engine.js';
import type { ServerMetrics } from './metrics.js';
import { isLoopback } from './security.js';
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
  /** Set when this start made the API token: the only time it is shown. */
  newToken: string | null;
  tokenRequired: boolean;
}

/** Builds the API and listens: loopback needs no token, any other address does. */
export async function listenHttp(app: App, o: HttpOptions = {}): Promise<RunningServer> {
  const host = o.host ?? app.config.server.host;
  const port = o.port ?? app.config.server.port;
  const tokenRequired = !isLoopback(host);
  const newToken = tokenRequired ? ensureApiToken(app.paths.home) : null;
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
      verifyToken: tokenRequired ? apiTokenVerifier(app.paths.home) : null,
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
  return { server, url: `http://${shown}:${actualPort}`, newToken, tokenRequired };
}
