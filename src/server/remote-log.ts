import type { App } from '../app/context.js';
import { findRun } from '../app/read-runs.js';
import { followRunOutput, type OutputStream } from '../app/run-output.js';
import { type Redactor, streamRedactor } from '../domain/redact.js';
import { exitOf, utf8Boundary } from './log-frames.js';
import { type SseConnection, sseFrame } from './sse.js';

/**
 * A run's live log as SSE when its worker runs on another host: the chunks
 * it ships to the database, followed as they arrive, in the same `log` /
 * `exit` frames as a local log.
 */
export async function streamRemoteLog(
  app: App,
  redact: Redactor,
  runId: string,
  stream: OutputStream,
  offset: number,
  conn: SseConnection,
): Promise<void> {
  const masked = streamRedactor(redact);
  let pending: Buffer = Buffer.alloc(0);
  let pos = offset;
  const send = async (bytes: Buffer, final: boolean) => {
    pending = pending.length === 0 ? bytes : Buffer.concat([pending, bytes]);
    const n = final ? pending.length : utf8Boundary(pending, pending.length);
    if (n === 0) return;
    const text = pending.subarray(0, n).toString('utf8');
    pending = pending.subarray(n);
    await conn.send(sseFrame('log', JSON.stringify({ offset: pos, text }), pos + n));
    pos += n;
  };
  await followRunOutput(app, runId, stream, {
    offset,
    follow: true,
    signal: conn.signal,
    onChunk: (chunk) => send(masked.push(chunk), false),
  });
  if (conn.closed) return;
  await send(masked.end(), true);
  conn.write(sseFrame('exit', JSON.stringify(redact.value(exitOf(await findRun(app, runId))))));
  conn.end();
}
