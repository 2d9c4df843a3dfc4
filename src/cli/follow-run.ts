import type { App } from '../app/context.js';
import { followRunOutput } from '../app/run-output.js';

/**
 * Writes a run's log to `out` from `offset`, following it until the run has
 * ended and the log is drained. The log file (or, for a run executed on
 * another host, the chunks its worker shipped) is the source, so a restart of
 * the engine in between loses and repeats nothing.
 */
export async function followRunLog(
  app: App,
  runId: string,
  stream: 'stdout' | 'stderr',
  out: NodeJS.WritableStream,
  opts: { follow: boolean; offset?: number },
): Promise<void> {
  await followRunOutput(app, runId, stream, {
    follow: opts.follow,
    ...(opts.offset !== undefined ? { offset: opts.offset } : {}),
    onChunk: (chunk) =>
      new Promise<void>((resolve) => {
        if (out.write(chunk)) resolve();
        else out.once('drain', () => resolve());
      }),
  });
}
