import type { App } from '../app/context.js';
import { followRunOutput } from '../app/run-output.js';
import { boardRedactor } from '../app/secrets.js';
import { streamRedactor } from '../domain/redact.js';

/**
 * Writes a run's log to `out` from `offset`, following it until the run has
 * ended and the log is drained. The log file (or, for a run executed on
 * another host, the chunks its worker shipped) is the source, so a restart of
 * the engine in between loses and repeats nothing. Known secrets are masked.
 */
export async function followRunLog(
  app: App,
  runId: string,
  stream: 'stdout' | 'stderr',
  out: NodeJS.WritableStream,
  opts: { follow: boolean; offset?: number },
): Promise<void> {
  const redact = streamRedactor(boardRedactor(app));
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
  await write(redact.end());
}
