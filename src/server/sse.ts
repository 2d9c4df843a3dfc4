/**
 * Server-Sent Events plumbing shared by the board feed and the live log: the
 * hijacked response, backpressure, heartbeats, and shutting every stream down
 * when the server closes.
 */
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './error-catalog.js';

export interface SseOptions {
  /** A `: ping` comment after this long without a write (proxies drop silent streams). */
  heartbeatMs: number;
  /** How often the board feed checks for commits by other processes (SQLite data_version). */
  eventPollMs: number;
  /** How often the board feed re-reads the events table where data_version is missing (PostgreSQL). */
  eventPollMsNoVersion: number;
  /** How often a followed run's state is re-read (an end recorded by another process). */
  runPollMs: number;
  /**
   * Bytes a client may have queued in its socket before it stops sharing the
   * live follower and catches up from the file at its own pace.
   */
  clientBufferBytes: number;
}

export const DEFAULT_SSE_OPTIONS: SseOptions = {
  heartbeatMs: 15_000,
  eventPollMs: 100,
  eventPollMsNoVersion: 1000,
  runPollMs: 250,
  clientBufferBytes: 256 * 1024,
};

const PING = ': ping\n\n';

/** One SSE message. `data` must hold no line break (JSON.stringify output never does). */
export function sseFrame(event: string, data: string, id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${data}\n\n`;
}

/** The `Last-Event-ID` header as a non-negative integer; undefined when absent. */
export function lastEventIdOf(req: FastifyRequest): number | undefined {
  const raw = req.headers['last-event-id'];
  if (raw === undefined || raw === '') return undefined;
  const s = Array.isArray(raw) ? raw[0] : raw;
  if (s === undefined || !/^\d{1,15}$/.test(s.trim())) {
    throw new HttpError(
      'invalid_request',
      'headers.last-event-id: expected the id of the last event received (a non-negative integer)',
      { field: 'headers.last-event-id' },
    );
  }
  return Number(s.trim());
}

/** One open event stream. Writes are fire-and-check: `write` says whether to wait for `drained`. */
export class SseConnection {
  private readonly controller = new AbortController();
  private readonly res: ServerResponse;
  private lastWrite = performance.now();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    reply: FastifyReply,
    private readonly heartbeatMs: number,
    private readonly onClose: (c: SseConnection) => void,
  ) {
    reply.hijack();
    this.res = reply.raw;
    this.res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    });
    this.res.flushHeaders();
    this.res.once('close', () => this.close());
    this.res.on('error', () => this.close());
    this.armHeartbeat(heartbeatMs);
    // The client may have gone while the request was being validated.
    if (this.res.closed || this.res.socket?.destroyed) this.close();
  }

  /** Aborted once the client has gone or the stream was ended. */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  /** Bytes queued in the socket and not yet taken by the client. */
  get buffered(): number {
    return this.res.writableLength;
  }

  /** Queues `chunk`; false means the client is behind: wait for `drained()` before more. */
  write(chunk: string | Buffer): boolean {
    if (this.closed) return false;
    this.lastWrite = performance.now();
    return this.res.write(chunk);
  }

  /** Writes and waits until the socket can take more (or the client has gone). */
  async send(chunk: string | Buffer): Promise<void> {
    if (!this.write(chunk)) await this.drained();
  }

  drained(): Promise<void> {
    if (this.closed || !this.res.writableNeedDrain) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.res.off('drain', done);
        this.signal.removeEventListener('abort', done);
        resolve();
      };
      this.res.on('drain', done);
      this.signal.addEventListener('abort', done, { once: true });
    });
  }

  /** Resolves when the stream closes. */
  whenClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) =>
      this.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  }

  /** Ends the stream (after what was written) and releases everything it held. */
  end(): void {
    if (!this.closed && !this.res.writableEnded) this.res.end();
    this.close();
  }

  private close(): void {
    if (this.closed) return;
    if (this.heartbeat) clearTimeout(this.heartbeat);
    this.heartbeat = null;
    this.controller.abort();
    this.onClose(this);
    if (!this.res.writableEnded) this.res.end();
  }

  /** Pings only an idle stream: a busy one already shows it is alive. */
  private armHeartbeat(ms: number): void {
    this.heartbeat = setTimeout(() => {
      if (this.closed) return;
      const idle = performance.now() - this.lastWrite;
      if (idle >= this.heartbeatMs - 1) {
        this.write(PING);
        this.armHeartbeat(this.heartbeatMs);
      } else {
        this.armHeartbeat(this.heartbeatMs - idle);
      }
    }, ms);
    this.heartbeat.unref();
  }
}

/** The open streams of one server, so closing the server ends them. */
export class SseRegistry {
  private readonly open = new Set<SseConnection>();
  private closing = false;

  constructor(readonly options: SseOptions) {}

  /** Hijacks the reply and starts the stream (200, SSE headers); a 503 once the server is closing. */
  start(reply: FastifyReply): SseConnection {
    if (this.closing) {
      throw new HttpError('unavailable', 'the server is shutting down: reconnect in a moment');
    }
    const c = new SseConnection(reply, this.options.heartbeatMs, (x) => this.open.delete(x));
    if (!c.closed) this.open.add(c);
    return c;
  }

  get size(): number {
    return this.open.size;
  }

  closeAll(): void {
    this.closing = true;
    for (const c of [...this.open]) c.end();
  }
}
