/** The HTTP API over a fresh SQLite board, driven through inject(). Not a test file. */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { App } from '../../src/app/context.js';
import { boardRedactor } from '../../src/app/secrets.js';
import type { Config } from '../../src/config/schema.js';
import { REQUEST_HEADER, type SecurityOptions } from '../../src/server/security.js';
import { buildServer } from '../../src/server/server.js';
import type { Clock } from '../../src/store/store.js';
import { type BoardLocation, sqliteBoard } from './board.js';

export const TEST_PORT = 4317;
/** The Origin a page served by the board itself sends. */
export const OWN_ORIGIN = `http://localhost:${TEST_PORT}`;
/** What the board's own page sends with every write: its Origin, and the board's header. */
export const BOARD_WRITE_HEADERS = { origin: OWN_ORIGIN, [REQUEST_HEADER]: '1' } as const;

export interface ApiBoard {
  app: App;
  board: BoardLocation;
  server: FastifyInstance;
  /** A request as the board's own page makes it: writes carry its Origin and the board's header. */
  call(method: string, url: string, payload?: unknown): Promise<LightMyRequestResponse>;
  close(): Promise<void>;
}

export async function apiBoard(
  o: {
    config?: Config;
    clock?: Clock;
    security?: Partial<SecurityOptions>;
    secrets?: string[];
    board?: BoardLocation;
  } = {},
): Promise<ApiBoard> {
  const board = o.board ?? sqliteBoard();
  const app = await board.open({ config: o.config, clock: o.clock });
  const server = testServer(app, o);
  await server.ready();
  return {
    app,
    board,
    server,
    call: (method, url, payload) =>
      server.inject({
        method: method as 'GET',
        url,
        ...(payload === undefined ? {} : { payload: payload as object }),
        headers: method === 'GET' ? {} : BOARD_WRITE_HEADERS,
      }),
    async close() {
      await server.close();
      await app.store.close();
    },
  };
}

/** The board's API over `app`, as served on loopback with no token: for inject(). */
export function testServer(
  app: App,
  o: { security?: Partial<SecurityOptions>; secrets?: string[] } = {},
): FastifyInstance {
  return buildServer({
    app,
    redact: boardRedactor(app, o.secrets ?? []),
    security: {
      bindHost: '127.0.0.1',
      port: TEST_PORT,
      allowedHosts: [],
      allowedOrigins: [],
      verifyToken: null,
      ...o.security,
    },
    logError: () => {},
  });
}

/** The board's API over `app` on a free loopback port, taking the tokens `verifyToken` accepts (and run tokens). */
export async function listenApi(
  app: App,
  verifyToken: (token: string) => boolean,
): Promise<{ server: FastifyInstance; url: string }> {
  const server = testServer(app, { security: { port: 0, verifyToken } });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const addr = server.server.address();
  return { server, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` };
}
