import type { App } from '../app/context.js';
import { findRun } from '../app/lookups.js';
import { followRunOutput } from '../app/run-output.js';
import { boardRedactor } from '../app/secrets.js';
import { streamRedactor } from '../domain/redact.js';
import { isTerminalRun } from '../domain/run.js';

/**
 * Writes a run's log to `out` from `offset`, following it until the run has
 * ended and the log is drained. The log file (or, for a run executed on
 * another host, the chunks its worker shipped) is the source, so a restart of
 * the engine in between loses and repeats nothing. Known secrets are masked
 * by the board's redactor, and a possible secret still being written (the
 * undecided tail) is never shown: without `follow`, a run that may still
 * write keeps its tail back, as the API's polled ranges do.
 */
export async function followRunLog(
  app: App,
  runId: string,
  stream: 'stdout' | 'stderr',
  out: NodeJS.WritableStream,
  opts: { follow: boolean; offset?: number },
): Promise<void> {
  const redact = streamRedactor(boardRedactor(app));
  // Asked before reading: bytes present when the run had ended are all there is.
  const run = await findRun(app, runId);
  const endedBefore = !run || isTerminalRun(run.state);
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve) => {
      if (chunk.length === 0 || out.write(chunk)) resolve();
      else out.once('drain', () => resolve());
    });
  await followRunOutput(app, runId, stream, {
    follow: opts.follow,
    ...(opts.offset !== undefined ? { offset: opts.offset } : {}),
    onChunk: (chunk) => write(redact.push(chunk)),
  });
  // Following returns once the run has ended and the log is drained: the tail is decided.
  if (opts.follow || endedBefore) await write(redact.end());
}
