import fs from 'node:fs';
import path from 'node:path';
import type { App } from '../app/context.js';
import { boardRedactor } from '../app/secrets.js';
import { runDir } from '../config/home.js';
import { streamRedactor } from '../domain/redact.js';
import { isTerminalRun, type RunState } from '../domain/run.js';
import { followFile } from '../runner/file-follower.js';
import { getRun } from '../store/runs.js';

/**
 * Writes a run's log to `out` from `offset`, following it until the run has
 * ended and the file is drained. The file is the source, so a restart of the
 * engine in between loses and repeats nothing. Known secrets are masked.
 */
export async function followRunLog(
  app: App,
  runId: string,
  stream: 'stdout' | 'stderr',
  out: NodeJS.WritableStream,
  opts: { follow: boolean; offset?: number },
): Promise<void> {
  const file = path.join(runDir(app.paths, runId), `${stream}.log`);
  let ended = false;
  const poll = opts.follow
    ? setInterval(async () => {
        const run = await getRun(app.store.db, runId).catch(() => undefined);
        if (!run || isTerminalRun(run.state as RunState)) ended = true;
      }, 200)
    : null;
  const redact = streamRedactor(boardRedactor(app));
  const write = (chunk: Buffer) =>
    new Promise<void>((resolve) => {
      if (chunk.length === 0 || out.write(chunk)) resolve();
      else out.once('drain', () => resolve());
    });
  try {
    if (!opts.follow && !fs.existsSync(file)) return;
    await followFile(file, {
      offset: opts.offset ?? 0,
      done: () => !opts.follow || ended,
      onChunk: (chunk) => write(redact.push(chunk)),
    });
    await write(redact.end());
  } finally {
    if (poll) clearInterval(poll);
  }
}
