import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { PAGE_ROUTES, PAGES } from '../../contract/pages.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../error-catalog.js';

/** Where `vite build` puts the board: dist/web, next to dist/src. */
export const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

/**
 * The board's client-side routes, each answered with index.html. /login is
 * login.ts's own: without a code it sends this same page.
 */
const BOARD_PAGES = PAGE_ROUTES.filter((r) => r !== PAGES.login);

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

/** The page may load only its own scripts and talk only to its own origin. */
const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const NOT_BUILT =
  'The web board is not built yet: run `npm run build` (it builds web/ into dist/web), then reload this page.\n' +
  'The API is up meanwhile: see /openapi.json.\n';

/**
 * The precompressed copies the client accepts, best first (the build writes
 * .br and .gz next to each asset). `q=0` refuses an encoding.
 */
export function preferredEncoding(header: string | string[] | undefined): ('br' | 'gzip')[] {
  const accepted = new Map<string, number>();
  for (const part of String(header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find(Boolean);
    accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const ok = (e: string) => (accepted.get(e) ?? accepted.get('*') ?? 0) > 0;
  return (['br', 'gzip'] as const).filter(ok);
}

/** Serves the built React board (dist/web) at `/`. Registered last: the API routes come first. */
export function webRoutes(f: FastifyInstance, _ctx: ServerContext): void {
  serveBoard(f, WEB_ROOT);
}

/** The board's page (index.html from the build in `root`), or a 503 saying how to build it. */
export async function sendBoardPage(reply: FastifyReply, root = WEB_ROOT): Promise<FastifyReply> {
  const file = path.join(root, 'index.html');
  let html: Buffer;
  try {
    html = await fs.promises.readFile(file);
  } catch {
    return reply
      .code(503)
      .header('cache-control', 'no-store')
      .type('text/plain; charset=utf-8')
      .send(NOT_BUILT);
  }
  return reply
    .header('cache-control', 'no-cache')
    .header('content-security-policy', CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'same-origin')
    .type('text/html; charset=utf-8')
    .send(html);
}

/** The board's page routes and assets, from the build in `root`. */
export function serveBoard(f: FastifyInstance, root: string): void {
  const sendIndex = (reply: FastifyReply) => sendBoardPage(reply, root);
  for (const url of BOARD_PAGES) f.get(url, (_req, reply) => sendIndex(reply));

  f.get<{ Params: { file: string } }>('/assets/:file', async (req, reply) => {
    const name = req.params.file;
    const ext = path.extname(name).toLowerCase();
    const type = TYPES[ext];
    const missing = () =>
      new HttpError(
        'route_not_found',
        `no asset ${name}: rebuild the board with \`npm run build\``,
      );
    // One plain file name: no separators, no "..", nothing outside dist/web/assets.
    if (!/^[\w.-]+$/.test(name) || name.startsWith('.') || !type) throw missing();
    const file = path.join(root, 'assets', name);
    const encoding = preferredEncoding(req.headers['accept-encoding']);
    let body: Buffer | undefined;
    let sent: 'br' | 'gzip' | null = null;
    for (const enc of encoding) {
      body = await fs.promises
        .readFile(`${file}${enc === 'br' ? '.br' : '.gz'}`)
        .catch(() => undefined);
      if (body) {
        sent = enc;
        break;
      }
    }
    if (!body) {
      try {
        body = await fs.promises.readFile(file);
      } catch {
        throw missing();
      }
    }
    if (sent) reply.header('content-encoding', sent);
    // Hashed names never change content: cache for a year, and by encoding.
    return reply
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('vary', 'accept-encoding')
      .header('x-content-type-options', 'nosniff')
      .type(type)
      .send(body);
  });

  f.get('/favicon.svg', async (_req, reply) => {
    try {
      const body = await fs.promises.readFile(path.join(root, 'favicon.svg'));
      return reply
        .header('cache-control', 'public, max-age=86400')
        .type('image/svg+xml')
        .send(body);
    } catch {
      throw new HttpError('route_not_found', 'no favicon: rebuild the board with `npm run build`');
    }
  });
}
