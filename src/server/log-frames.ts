/**
 * The pieces of a run's live log as SSE: `log` and `exit` frames, reads with
 * redaction context, UTF-8 boundaries. Used by the shared followers in
 * log-stream.ts and by the remote-log reader.
 */
import { type FileHandle, open, stat } from 'node:fs/promises';
import type { Redactor } from '../domain/redact.js';
import type { RunRow } from '../store/runs.js';
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
