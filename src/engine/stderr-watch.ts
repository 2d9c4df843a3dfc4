import path from 'node:path';
import type { AgentEvent, TranscriptParser } from '../agents/events.js';
import { followFile } from '../runner/file-follower.js';
import { LineSplitter } from './line-splitter.js';

/**
 * Follows a run's stderr for the CLIs that print their retry notices or
 * fatal errors only there (Gemini). Nothing is stored from it but what the
 * transcript makes of the events; a restarted server reads it again from the
 * start, which only repeats notices already superseded.
 */
export class StderrWatch {
  private readonly abort = new AbortController();
  private finished = false;
  private wake: () => void = () => {};
  private readonly reading: Promise<number>;

  constructor(runDir: string, parser: TranscriptParser, onEvent: (e: AgentEvent) => void) {
    const lines = new LineSplitter(
      0,
      (line) => {
        for (const e of parser.line(line)) onEvent(e);
      },
      () => {},
    );
    this.reading = followFile(path.join(runDir, 'stderr.log'), {
      offset: 0,
      signal: this.abort.signal,
      done: () => this.finished,
      onChunk: (chunk) => lines.push(chunk),
      onWaker: (wake) => {
        this.wake = wake;
      },
      pollMs: 500,
    });
    this.reading.then(
      () => lines.end(),
      () => {},
    );
  }

  /** The agent exited: read what is left. */
  async finish(): Promise<void> {
    this.finished = true;
    this.wake();
    await this.reading.catch(() => {});
  }

  stop(): void {
    if (!this.finished) this.abort.abort();
  }
}
