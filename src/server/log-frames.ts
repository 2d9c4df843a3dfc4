/**
 * The pieces of a run's log as the server shows it: `log` and `exit` SSE
 * frames, reads with redaction context, UTF-8 boundaries, and the hold-back
 * of a growing log's undecided tail, shared by the live stream (log-stream.ts)
 * and polled byte ranges (`readLogRange`). Used by the shared followers in
 * log-stream.ts, the remote-log reader and the logs route.
 */
import { type FileHandle, open, stat } from 'node:fs/promises';
import type { App } from '../app/context.js';
import type { RunRow } from '../app/read-runs.js';
import { logLength, type OutputStream, readRunLog } from '../app/run-output.js';
import { AgentboardError } from '../domain/errors.js';
import type { Redactor } from '../domain/redact.js';
import { sseFrame } from './sse.js';

/** The most bytes one frame carries. */
export const CHUNK = 64 * 1024;

export interface ExitInfo {
  state: string;
  exitCode: number | null;
  exitSignal: string | null;
  errorSummary: string | null;
}

export function exitOf(run: RunRow | undefined): ExitInfo {
  return {
    state: run?.state ?? 'deleted',
    exitCode: run?.exit_code ?? null,
    exitSignal: run?.exit_signal ?? null,
    errorSummary: run?.error_summary ?? null,
  };
}

/**
 * The largest index <= `end` that does not cut a UTF-8 character of `buf`
 * in two. Invalid sequences are not held back (they decode to U+FFFD).
 */
export function utf8Boundary(buf: Buffer, end: number): number {
  for (let j = end - 1; j >= Math.max(0, end - 4); j--) {
    const b = buf[j] as number;
    if ((b & 0xc0) === 0x80) continue;
    const len =
      b < 0x80
        ? 1
        : (b & 0xe0) === 0xc0
          ? 2
          : (b & 0xf0) === 0xe0
            ? 3
            : (b & 0xf8) === 0xf0
              ? 4
              : 1;
    return j + len > end ? j : end;
  }
  return end;
}

/**
 * How many leading bytes of `raw` (the newest bytes of a log, with context
 * before them) can be shown now. `final` (the run had ended before `raw` was
 * read: nothing more will come): all of them. Otherwise all but the
 * undecided tail, what may be a secret still being written
 * (`Redactor.holdback`), pulled back to a UTF-8 character boundary. Whoever
 * shows a growing log goes through here, the live stream and polled ranges
 * alike, so neither can end inside a possible secret: the held-back bytes are
 * shown once the next write (or the run's end) decides them.
 */
export function decidedEnd(redact: Redactor, raw: Buffer, final: boolean): number {
  if (final) return raw.length;
  return utf8Boundary(raw, raw.length - redact.holdback(raw));
}

/** The size of a log file; 0 before the agent has created it. */
export async function logSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

/**
 * The `log` frame for bytes [from, to) of the file, given `raw`: the file's
 * bytes from `rawStart` on, which reach past both ends for context.
 */
export function logFrame(
  redact: Redactor,
  raw: Buffer,
  rawStart: number,
  from: number,
  to: number,
): Buffer {
  const text = redact
    .bytes(raw)
    .subarray(from - rawStart, to - rawStart)
    .toString('utf8');
  return Buffer.from(sseFrame('log', JSON.stringify({ offset: from, text }), to));
}

/** The frame for [from, min(from + CHUNK, target)), read with context on both sides. */
export async function readFrame(
  fh: FileHandle,
  redact: Redactor,
  from: number,
  target: number,
): Promise<{ frame: Buffer; to: number }> {
  const rawStart = Math.max(0, from - redact.overlap);
  let to = Math.min(target, from + CHUNK);
  const want = to + redact.overlap + 4 - rawStart;
  const buf = Buffer.allocUnsafe(want);
  const { bytesRead } = await fh.read(buf, 0, want, rawStart);
  const raw = buf.subarray(0, bytesRead);
  const rawEnd = rawStart + bytesRead;
  if (to > rawEnd) to = rawEnd;
  // `target` is a character boundary; a cut short of it may need pulling back.
  if (to < target) to = rawStart + utf8Boundary(raw, to - rawStart);
  if (to <= from) throw new Error(`log ${from}..${target}: the file is shorter than expected`);
  return { frame: logFrame(redact, raw, rawStart, from, to), to };
}

export async function readAt(file: string, offset: number, length: number): Promise<Buffer> {
  if (length <= 0) return Buffer.alloc(0);
  let fh: FileHandle;
  try {
    fh = await open(file, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw e;
  }
  try {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

/**
 * Bytes [offset, offset + limit) of a run's log, redacted, for a poller: read
 * with `overlap` bytes of context on both sides (a secret cut by the range is
 * still recognised, and masking keeps lengths, so offsets stay true), and,
 * while the run may still write, cut before the undecided tail
 * (`decidedEnd`): the answer may be shorter than what the file holds, and the
 * next offset (`offset + bytes.length`) points before the held-back bytes, so
 * the next poll reads them again once they are decided. An offset past the
 * end is an error saying where the log ends.
 */
export async function readLogRange(
  app: App,
  redact: Redactor,
  runId: string,
  stream: OutputStream,
  offset: number,
  limit: number,
): Promise<{ bytes: Buffer; offset: number; size: number }> {
  const size = await logLength(app, runId, stream);
  if (offset > size) {
    throw new AgentboardError(
      'range_not_satisfiable',
      `offset ${offset} is past the end of the ${stream} log (${size} bytes): read from an offset up to ${size}`,
      { exitCode: 2, details: { field: 'offset', size } },
    );
  }
  const from = Math.max(0, offset - redact.overlap);
  const want = offset - from + limit + redact.overlap + 4;
  // readRunLog asks the run's state before it reads: `complete` means the run
  // had ended and the read reached the end, so no byte of it is undecided.
  const r = await readRunLog(app, runId, stream, { offset: from, limit: want });
  const end = from + decidedEnd(redact, r.data, r.complete);
  const to = Math.max(offset, Math.min(offset + limit, end));
  const bytes = redact.bytes(r.data).subarray(offset - from, to - from);
  return { bytes, offset, size: Math.max(size, from + r.data.length) };
}
