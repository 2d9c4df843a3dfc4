/**
 * A run's log, wherever it was written: the run directory on this host, or
 * (a run executed by a worker on another host) the chunks that worker shipped
 * to the database. Both are addressed by the same byte offsets, so a reader
 * can move from one to the other without a gap. For the CLI and the HTTP API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runDir } from '../config/home.js';
import { systemClock } from '../domain/clock.js';
import { AgentboardError, NotFoundError } from '../domain/errors.js';
import { isTerminalRun } from '../domain/run.js';
import { followFile } from '../runner/file-follower.js';
import { type OutputStream, readOutput, shippedBytes } from '../store/run-output.js';
import { getRun } from '../store/runs.js';
import type { App } from './context.js';

export type { OutputStream };

export interface LogRange {
  data: Buffer;
  offset: number;
  /** Where the next read continues. */
  nextOffset: number;
  /** Where the bytes came from. */
  source: 'file' | 'database';
  /** The run has ended and nothing lies beyond `nextOffset`. */
  complete: boolean;
}

const DEFAULT_LIMIT = 1 << 20;
const DB_POLL_MS = 200;

export function logFile(app: App, runId: string, stream: OutputStream): string {
  return path.join(runDir(app.paths, runId), `${stream}.log`);
}

/** Whether the log lives in the database: a PostgreSQL board, written on another host. */
export function isRemoteLog(app: App, runId: string, stream: OutputStream): boolean {
  return app.store.dialect.multiHost && !fs.existsSync(logFile(app, runId, stream));
}

/** How many bytes of the log exist now, here or shipped. */
export async function logLength(app: App, runId: string, stream: OutputStream): Promise<number> {
  if (isRemoteLog(app, runId, stream)) return (await shippedBytes(app.store.db, runId))[stream];
  try {
    return (await fs.promises.stat(logFile(app, runId, stream))).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

/**
 * What a reader of a run's output gets once gc removed it: a 410 (`output_removed`)
 * saying when, never an empty log that looks like a run that printed nothing.
 */
export function outputRemovedError(
  runId: string,
  removedAt: number,
  what: 'output' | 'transcript' = 'output',
): AgentboardError {
  const on = new Date(removedAt).toISOString().slice(0, 10);
  return new AgentboardError(
    'output_removed',
    `the ${what} of run ${runId} was removed by gc on ${on} (board.gc.older_than); nothing to show`,
    { details: { runId, removedAt: new Date(removedAt).toISOString(), removedBy: 'gc' } },
  );
}

/** Throws `output_removed` when gc has removed the run's logs and transcript. */
export function assertOutputKept(
  run: { id: string; output_removed_at: number | null },
  what: 'output' | 'transcript' = 'output',
): void {
  if (run.output_removed_at != null)
    throw outputRemovedError(run.id, Number(run.output_removed_at), what);
}

async function runEnded(app: App, runId: string): Promise<boolean> {
  const run = await getRun(app.store.db, runId);
  if (!run) throw new NotFoundError('run', runId);
  assertOutputKept(run);
  return isTerminalRun(run.state);
}

/** Up to `limit` bytes of a run's stdout or stderr from `offset`. */
export async function readRunLog(
  app: App,
  runId: string,
  stream: OutputStream,
  opts: { offset?: number; limit?: number } = {},
): Promise<LogRange> {
  const offset = opts.offset ?? 0;
  const limit = opts.limit ?? DEFAULT_LIMIT;
  // Asked before reading: bytes present when the run had ended are all there is.
  const ended = await runEnded(app, runId);
  const file = logFile(app, runId, stream);
  let data: Buffer;
  let source: LogRange['source'];
  if (!app.store.dialect.multiHost || fs.existsSync(file)) {
    source = 'file';
    data = readFileRange(file, offset, limit);
  } else {
    source = 'database';
    data = await readOutput(app.store.db, runId, stream, offset, limit);
  }
  return {
    data,
    offset,
    nextOffset: offset + data.length,
    source,
    complete: ended && data.length < limit,
  };
}

/**
 * Streams a run's log from `offset` to `onChunk` (consecutive slices, no gap
 * or overlap; a returned promise is waited for) until the run has ended and
 * everything is read, or `signal` aborts. Resolves with the offset reached.
 * `follow: false` reads what is there now and returns.
 */
export async function followRunOutput(
  app: App,
  runId: string,
  stream: OutputStream,
  opts: {
    offset?: number;
    follow?: boolean;
    signal?: AbortSignal;
    onChunk: (chunk: Buffer, offsetAfter: number) => void | Promise<void>;
  },
): Promise<number> {
  const follow = opts.follow ?? true;
  const file = logFile(app, runId, stream);
  await runEnded(app, runId);
  if (!app.store.dialect.multiHost || fs.existsSync(file)) {
    let ended = false;
    const poll = follow
      ? setInterval(async () => {
          ended = await runEnded(app, runId).catch(() => true);
        }, DB_POLL_MS)
      : null;
    try {
      if (!follow && !fs.existsSync(file)) return opts.offset ?? 0;
      return await followFile(file, {
        offset: opts.offset ?? 0,
        done: () => !follow || ended,
        onChunk: opts.onChunk,
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } finally {
      if (poll) clearInterval(poll);
    }
  }
  // Written on another host: read what its worker shipped, as it arrives.
  let offset = opts.offset ?? 0;
  while (!opts.signal?.aborted) {
    const r = await readRunLog(app, runId, stream, { offset, limit: 256 << 10 });
    if (r.data.length > 0) {
      offset = r.nextOffset;
      await opts.onChunk(r.data, offset);
      continue;
    }
    if (r.complete || !follow) break;
    // Real time, whatever the app's clock: this waits on another host's writes.
    await systemClock.sleep(DB_POLL_MS, opts.signal).catch(() => {});
  }
  return offset;
}

function readFileRange(file: string, offset: number, limit: number): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const buf = Buffer.allocUnsafe(limit);
    const n = fs.readSync(fd, buf, 0, limit, offset);
    return Buffer.from(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
}
