/** The HTTP plumbing shared by the scripted model servers. Not a test file. */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { type ErrorScenario, isErrorScenario, type Scenario } from './scenario.js';

/**
 * How a request was routed:
 * - `main`: a turn of the scripted conversation (`turn` says which),
 * - `side`: a side call of the CLI (titles, routing, JSON checks…) answered without using the script,
 * - `error`: answered with the scenario's HTTP error,
 * - `other`: a known endpoint answered with a canned body (token counting, model lists…),
 * - `unknown`: a path this server does not know, answered 404 and logged to stderr.
 */
export type RequestKind = 'main' | 'side' | 'error' | 'other' | 'unknown';

export interface CapturedRequest {
  /** 0-based arrival order. */
  seq: number;
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path with the query string. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The JSON body, parsed; the raw text when it is not JSON; undefined when empty. */
  body: unknown;
  kind: RequestKind;
  /** For `main` requests: the index of the scripted turn answered. */
  turn?: number;
  /** The HTTP status answered. */
  status: number;
  /**
   * The usage this server reported for this request (what a provider would bill), so a test can
   * add up the figures of one run's requests and compare them with what agentboard recorded.
   */
  usage?: Usage;
  /** A main request whose response was cut mid-stream (see `ModelTurn.cut`). */
  cut?: boolean;
}

/** Token usage as a provider reports it for one request; `input` excludes cache reads. */
export interface Usage {
  input: number;
  output: number;
  cacheRead: number;
}

export interface ModelServer {
  /** Base URL, e.g. `http://127.0.0.1:41234` (no trailing slash, no `/v1`). */
  url: string;
  port: number;
  /** Every request received, in order. */
  requests: CapturedRequest[];
  close(): Promise<void>;
}

export interface ServerOptions {
  /** Called for each request after it was answered (e.g. for debugging). */
  onRequest?: (req: CapturedRequest) => void;
  /** Don't print unknown paths to stderr. */
  quiet?: boolean;
}

/** What a protocol handler returns; `send` writes the response. */
export interface Routed {
  kind: RequestKind;
  turn?: number;
  status?: number;
  /** What the response reports as usage (none for errors and cut responses). */
  usage?: Usage;
  /** The response is cut mid-stream. */
  cut?: boolean;
  send: (res: ServerResponse) => void;
}

export type Router = (
  req: Omit<CapturedRequest, 'kind' | 'turn' | 'status'>,
  error: ErrorScenario | undefined,
) => Routed;

function decode(buf: Buffer, encoding: string | undefined): Buffer {
  switch (encoding) {
    case 'gzip':
      return gunzipSync(buf);
    case 'deflate':
      return inflateSync(buf);
    case 'br':
      return brotliDecompressSync(buf);
    default:
      return buf;
  }
}

/**
 * Starts a server on 127.0.0.1 (random port). For an {@link ErrorScenario}, every request is
 * answered with the error until `times` requests have failed; the router still decides the body.
 */
export function startServer(
  scenario: Scenario,
  route: Router,
  opts: ServerOptions = {},
): Promise<ModelServer> {
  const requests: CapturedRequest[] = [];
  let errorsSent = 0;
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const url = req.url ?? '/';
      let text = '';
      try {
        text = decode(Buffer.concat(parts), req.headers['content-encoding']).toString('utf8');
      } catch {
        text = Buffer.concat(parts).toString('utf8');
      }
      let body: unknown;
      if (text !== '') {
        try {
          body = JSON.parse(text);
        } catch {
          body = text;
        }
      }
      const base = {
        seq: requests.length,
        method: req.method ?? 'GET',
        path: url.split('?')[0] ?? url,
        url,
        headers: req.headers,
        body,
      };
      let error: ErrorScenario | undefined;
      if (
        isErrorScenario(scenario) &&
        (scenario.times === undefined || errorsSent < scenario.times)
      )
        error = scenario;
      const routed = route(base, error);
      if (routed.kind === 'error') errorsSent++;
      const captured: CapturedRequest = {
        ...base,
        kind: routed.kind,
        status: routed.status ?? 200,
        ...(routed.turn === undefined ? {} : { turn: routed.turn }),
        ...(routed.usage === undefined ? {} : { usage: routed.usage }),
        ...(routed.cut ? { cut: true } : {}),
      };
      requests.push(captured);
      if (routed.kind === 'unknown' && !opts.quiet)
        process.stderr.write(`[model-server] unknown request ${base.method} ${url}\n`);
      try {
        routed.send(res);
      } catch (err) {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: String(err) } }));
      }
      opts.onRequest?.(captured);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        port,
        requests,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/**
 * A Server-Sent Events response: `event:` lines when a name is given, `data:` lines always.
 * With `cutAfter`, only the events up to that index are written, then the socket is destroyed
 * (a connection dropped mid-stream, without the stream's end).
 */
export function sendSse(
  res: ServerResponse,
  events: ReadonlyArray<{ event?: string; data: unknown }>,
  headers: Record<string, string> = {},
  cutAfter?: number,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...headers,
  });
  for (const [i, e] of events.entries()) {
    const name = e.event === undefined ? '' : `event: ${e.event}\n`;
    res.write(`${name}data: ${JSON.stringify(e.data)}\n\n`);
    if (cutAfter !== undefined && i >= cutAfter) {
      cutSocket(res);
      return;
    }
  }
  res.end();
}

/** A JSON response whose body stops halfway, then the socket is destroyed. */
export function sendCutJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
  cutSocket(res);
}

/** Destroys the socket once what was written has been flushed, so the client sees the partial body. */
function cutSocket(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) {
    res.destroy();
    return;
  }
  socket.write('', () => socket.destroy());
}

/**
 * Decides which responses `ModelTurn.cut` cuts: the first `cut` main requests answering a turn.
 * Counting per turn keeps turn picking stateless (a retry of the turn is answered whole).
 */
export function cutCounter(): (turn: number, cut: number | undefined) => boolean {
  const answered = new Map<number, number>();
  return (turn, cut) => {
    const n = answered.get(turn) ?? 0;
    answered.set(turn, n + 1);
    return (cut ?? 0) > n;
  };
}

/** Answers an error scenario's status with its body, or with `fallback` (the API's usual shape). */
export function sendError(res: ServerResponse, error: ErrorScenario, fallback: unknown): void {
  sendJson(res, error.status, error.body ?? fallback, error.headers);
}

let idCounter = 0;
/** A unique id with a prefix, e.g. `msg_0001a2b3`. */
export function newId(prefix: string): string {
  idCounter++;
  return `${prefix}${Date.now().toString(36)}${idCounter.toString(36).padStart(4, '0')}`;
}
