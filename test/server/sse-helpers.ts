/** An SSE client over a real socket, and a listening API server with short stream timings. Not a test file. */
import http from 'node:http';
import type { App } from '../../src/app/context.js';
import { boardRedactor } from '../../src/app/secrets.js';
import type { Config } from '../../src/config/schema.js';
import { buildServer } from '../../src/server/server.js';
import type { SseOptions } from '../../src/server/sse.js';
import { type BoardLocation, sqliteBoard } from '../support/board.js';

export interface SseMessage {
  id: string | undefined;
  event: string;
  data: string;
}

/** One open event stream: messages and comments as they are parsed. */
export class SseClient {
  readonly messages: SseMessage[] = [];
  readonly comments: string[] = [];
  /** Resolves when the server ends the stream or the connection drops. */
  readonly ended: Promise<void>;
  private buf = '';
  private listeners = new Set<() => void>();
  private endedFlag = false;

  private constructor(
    readonly res: http.IncomingMessage,
    private readonly req: http.ClientRequest,
  ) {
    res.setEncoding('utf8');
    res.on('data', (s: string) => this.feed(s));
    this.ended = new Promise((resolve) => {
      const done = () => {
        this.endedFlag = true;
        this.notify();
        resolve();
      };
      res.once('end', done);
      res.once('close', done);
      res.once('error', done);
    });
  }

  get isEnded(): boolean {
    return this.endedFlag;
  }

  get status(): number {
    return this.res.statusCode ?? 0;
  }

  /** The id of the last message that carried one (what a browser would send as Last-Event-ID). */
  get lastId(): string | undefined {
    for (let i = this.messages.length - 1; i >= 0; i--) {
      const id = this.messages[i]?.id;
      if (id !== undefined) return id;
    }
    return undefined;
  }

  static connect(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) =>
        resolve(new SseClient(res, req)),
      );
      req.once('error', reject);
    });
  }

  /** Waits until `probe` holds (checked after each message), or fails after `timeoutMs`. */
  async until(what: string, probe: () => boolean, timeoutMs = 10_000): Promise<void> {
    if (probe()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(
          new Error(
            `timed out waiting for ${what}: ${this.messages.length} messages, ${this.comments.length} comments${this.endedFlag ? ', stream ended' : ''}`,
          ),
        );
      }, timeoutMs);
      const check = () => {
        if (probe()) {
          clearTimeout(timer);
          this.listeners.delete(check);
          resolve();
        } else if (this.endedFlag) {
          clearTimeout(timer);
          this.listeners.delete(check);
          reject(new Error(`the stream ended while waiting for ${what}`));
        }
      };
      this.listeners.add(check);
    });
  }

  /** Stops reading (the server's socket buffer fills up) or resumes. */
  pause(): void {
    this.res.pause();
  }

  resume(): void {
    this.res.resume();
  }

  close(): void {
    this.req.destroy();
    this.res.destroy();
  }

  private feed(s: string): void {
    this.buf += s;
    let cut = this.buf.indexOf('\n\n');
    while (cut !== -1) {
      const block = this.buf.slice(0, cut);
      this.buf = this.buf.slice(cut + 2);
      this.parse(block);
      cut = this.buf.indexOf('\n\n');
    }
    this.notify();
  }

  private parse(block: string): void {
    let id: string | undefined;
    let event = 'message';
    const data: string[] = [];
    let any = false;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      any = true;
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (any) this.messages.push({ id, event, data: data.join('\n') });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}

/** Reads a whole (ending) SSE response. */
export async function readAll(url: string, headers: Record<string, string> = {}) {
  const c = await SseClient.connect(url, headers);
  await c.ended;
  return c;
}

export const FAST_SSE: Partial<SseOptions> = {
  heartbeatMs: 15_000,
  eventPollMs: 20,
  eventPollMsNoVersion: 50,
  runPollMs: 30,
};

export interface ListeningBoard {
  app: App;
  board: BoardLocation;
  url: string;
  server: ReturnType<typeof buildServer>;
  close(): Promise<void>;
}

/** The API over a fresh SQLite board, listening on a free loopback port. */
export async function listeningBoard(
  o: { sse?: Partial<SseOptions>; secrets?: string[]; config?: Config; board?: BoardLocation } = {},
): Promise<ListeningBoard> {
  const board = o.board ?? sqliteBoard();
  const app = await board.open({ config: o.config });
  const server = buildServer({
    app,
    redact: boardRedactor(app, o.secrets ?? []),
    security: {
      bindHost: '127.0.0.1',
      port: 0,
      allowedHosts: [],
      allowedOrigins: [],
      verifyToken: null,
    },
    logError: () => {},
    sse: { ...FAST_SSE, ...o.sse },
  });
  await server.listen({ host: '127.0.0.1', port: 0 });
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    app,
    board,
    url: `http://127.0.0.1:${port}`,
    server,
    async close() {
      await server.close();
      await app.store.close();
    },
  };
}

/** GET returning status and parsed JSON body. */
export async function getJson(url: string): Promise<{ status: number; body: unknown }> {
  const r = await fetch(url);
  return { status: r.status, body: await r.json() };
}
