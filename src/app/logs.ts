import { open } from 'node:fs/promises';
import path from 'node:path';
import { runDir } from '../config/home.js';
import { AgentboardError } from '../domain/errors.js';
import type { Redactor } from '../domain/redact.js';
import type { App } from './context.js';

export type LogStream = 'stdout' | 'stderr';

export function logFile(app: App, runId: string, stream: LogStream): string {
  return path.join(runDir(app.paths, runId), `${stream}.log`);
}

export interface LogRange {
  bytes: Buffer;
  offset: number;
  /** The log's size when read; `offset + bytes.length` is where to continue. */
  size: number;
}

/**
 * Reads `limit` bytes of a run's log from `offset`, redacted. The read
 * reaches a little past both ends so a secret cut by the range is still
 * recognised; masking keeps lengths, so offsets stay true.
 */
export async function readLogRange(
  app: App,
  runId: string,
  stream: LogStream,
  offset: number,
  limit: number,
  redact: Redactor,
): Promise<LogRange> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(logFile(app, runId, stream), 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      return { bytes: Buffer.alloc(0), offset, size: 0 };
    throw e;
  }
  try {
    const size = (await fh.stat()).size;
    if (offset > size) {
      throw new AgentboardError(
        'range_not_satisfiable',
        `offset ${offset} is past the end of the ${stream} log (${size} bytes): read from an offset up to ${size}`,
        { exitCode: 2, details: { field: 'offset', size } },
      );
    }
    const end = Math.min(size, offset + limit);
    const from = Math.max(0, offset - redact.overlap);
    const to = Math.min(size, end + redact.overlap);
    const buf = Buffer.alloc(to - from);
    const { bytesRead } = await fh.read(buf, 0, buf.length, from);
    const clean = redact.bytes(buf.subarray(0, bytesRead));
    return { bytes: clean.subarray(offset - from, end - from), offset, size };
  } finally {
    await fh.close();
  }
}
