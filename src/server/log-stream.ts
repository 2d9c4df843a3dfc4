/**
 * A run's live log as SSE. One shared follower per (run, stream) reads the
 * file as it grows, redacts each new piece once, frames it once, and writes
 * the same bytes to every client that is caught up. A client that starts
 * behind (or falls behind: its socket is full) reads the file on its own, at
 * its own pace, until it reaches the follower, then joins it. Memory is
 * bounded per client by its socket allowance plus one chunk.
 *
 * Offsets are file byte offsets. Redaction keeps lengths, and a piece is only
 * sent with `redact.overlap` bytes of context on both sides (the newest bytes
 * wait for more, or for the run's end), so a secret cut across two writes is
 * still recognised. A piece never ends inside a UTF-8 character.
 */
import { type FileHandle, open } from 'node:fs/promises';
import type { App } from '../app/context.js';
import type { EventRecord } from '../app/read-events.js';
import { findRun } from '../app/read-runs.js';
import { type OutputStream as LogStream, logFile } from '../app/run-output.js';
import type { Redactor } from '../domain/redact.js';
import { isTerminalRun } from '../domain/run.js';
import { followFile } from '../runner/file-follower.js';
import {
  CHUNK,
  decidedEnd,
  type ExitInfo,
  exitOf,
  logFrame,
  logSize,
  readAt,
  readFrame,
  utf8Boundary,
} from './log-frames.js';
import type { SseConnection, SseOptions } from './sse.js';
import { sseFrame } from './sse.js';

/**
 * A writer's small writes are gathered for this long into one frame: every
 * frame costs a write per client, so 50 clients of a chatty agent would
 * otherwise cost one syscall per client per line.
 */
const GATHER_MS = 5;

interface Deps {
  app: App;
  redact: Redactor;
  options: SseOptions;
}

/** The follower of one (run, stream), shared by its clients. */
class SharedLog {
  /** Clients that receive every frame as it is made. */
  readonly joined = new Set<LogSubscriber>();
  /** Every client using this follower, joined or catching up. */
  attached = 0;
  /** Frames have been made for the file's bytes up to here. */
  pos = 0;
  /** Set once the run has ended and the file is drained: `pos` is then the file's final size. */
  ended: ExitInfo | null = null;
  failed = false;
  readonly ready: Promise<void>;
  /** Unsent bytes, and the context before them: the file from `rawStart` on. */
  private raw: Buffer = Buffer.alloc(0);
  private rawStart = 0;
  private terminal = false;
  private checking = false;
  private readonly stop = new AbortController();
  private wakeFollower: (() => void) | null = null;
  private poll: NodeJS.Timeout | null = null;
  private gather: NodeJS.Timeout | null = null;
  private lastFrameAt = 0;
  private readonly progress = new Set<() => void>();
  private readonly onEvents = (events: EventRecord[]): void => {
    if (events.some((e) => e.runId === this.runId)) void this.checkRun();
  };

  constructor(
    readonly deps: Deps,
    readonly runId: string,
    readonly file: string,
  ) {
    this.ready = this.start();
  }

  get redact(): Redactor {
    return this.deps.redact;
  }

  get stopped(): boolean {
    return this.stop.signal.aborted;
  }

  private async start(): Promise<void> {
    try {
      // The state is read before the size: a run ended by then has its whole log on disk.
      const run = await findRun(this.deps.app, this.runId);
      const size = await logSize(this.file);
      if (!run || isTerminalRun(run.state)) {
        this.pos = size;
        this.ended = exitOf(run);
        return;
      }
      const overlap = this.redact.overlap;
      this.rawStart = Math.max(0, size - 2 * overlap - 4);
      this.raw = await readAt(this.file, this.rawStart, size - this.rawStart);
      this.pos =
        this.rawStart + utf8Boundary(this.raw, Math.max(0, size - overlap - this.rawStart));
      this.keepFrom(this.pos);
      // Every client may have left while the file was being opened.
      if (this.stopped) return;
      this.deps.app.store.changes.on('events', this.onEvents);
      this.poll = setInterval(() => void this.checkRun(), this.deps.options.runPollMs);
      this.poll.unref();
      void this.follow(size);
    } catch {
      this.fail();
    }
  }

  private async follow(from: number): Promise<void> {
    try {
      await followFile(this.file, {
        offset: from,
        done: () => this.terminal,
        signal: this.stop.signal,
        onWaker: (wake) => {
          this.wakeFollower = wake;
        },
        onChunk: (chunk) => {
          this.raw = this.raw.length === 0 ? chunk : Buffer.concat([this.raw, chunk]);
          this.settleSoon();
        },
      });
      if (this.stopped) return;
      this.settle(true);
      const run = await findRun(this.deps.app, this.runId);
      this.unwatch();
      this.ended = exitOf(run);
      for (const sub of [...this.joined]) sub.finish(this.ended);
      this.joined.clear();
      this.wakeAll();
    } catch {
      this.fail();
    }
  }

  /** Frames now if the last frame is old enough or a chunk's worth is waiting; else shortly. */
  private settleSoon(): void {
    const wait = this.lastFrameAt + GATHER_MS - performance.now();
    if (wait <= 0 || this.raw.length >= CHUNK) {
      this.settle(false);
      return;
    }
    this.gather ??= setTimeout(() => {
      this.gather = null;
      if (!this.stopped && !this.ended) this.settle(false);
    }, wait);
  }

  /** Frames what can be sent: all of it at the end, else all but what may be a secret still being written. */
  private settle(final: boolean): void {
    if (this.gather) clearTimeout(this.gather);
    this.gather = null;
    const to = this.rawStart + decidedEnd(this.redact, this.raw, final);
    if (to <= this.pos) return;
    const from = this.pos;
    const frame = logFrame(this.redact, this.raw, this.rawStart, from, to);
    this.lastFrameAt = performance.now();
    this.pos = to;
    this.keepFrom(to);
    for (const sub of this.joined) {
      if (sub.offset !== from || !sub.deliver(frame, to)) {
        this.joined.delete(sub);
        void sub.catchUp();
      }
    }
    this.wakeAll();
  }

  /** Drops raw bytes no longer needed as context (a copy: the chunk it came from can go). */
  private keepFrom(offset: number): void {
    const from = Math.max(this.rawStart, offset - this.redact.overlap);
    if (from === this.rawStart) return;
    this.raw = Buffer.from(this.raw.subarray(from - this.rawStart));
    this.rawStart = from;
  }

  private async checkRun(): Promise<void> {
    if (this.terminal || this.checking) return;
    this.checking = true;
    try {
      const run = await findRun(this.deps.app, this.runId);
      if (!run || isTerminalRun(run.state)) {
        this.terminal = true;
        this.wakeFollower?.();
      }
    } catch {
      // The store is busy or closing: the next poll asks again.
    } finally {
      this.checking = false;
    }
  }

  /** Resolves once `pos` passes `offset`, the log ends or fails, or `signal` aborts. */
  progressPast(offset: number, signal: AbortSignal): Promise<void> {
    if (this.pos > offset || this.ended || this.failed || this.stopped || signal.aborted) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const wake = () => {
        this.progress.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.progress.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private wakeAll(): void {
    for (const w of [...this.progress]) w();
  }

  private fail(): void {
    this.failed = true;
    this.unwatch();
    for (const sub of [...this.joined]) sub.abandon();
    this.joined.clear();
    this.wakeAll();
  }

  private unwatch(): void {
    if (this.gather) clearTimeout(this.gather);
    this.gather = null;
    this.deps.app.store.changes.off('events', this.onEvents);
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
  }

  /** Stops following: no client is left (or the server is closing). */
  close(): void {
    this.stop.abort();
    this.unwatch();
    this.wakeAll();
  }
}

/** One client of a run's log. */
class LogSubscriber {
  private catching = false;

  constructor(
    private readonly shared: SharedLog,
    private readonly conn: SseConnection,
    /** The next byte the client needs. */
    public offset: number,
  ) {}

  /** Writes a frame made by the shared follower; false when the client is too far behind to stay. */
  deliver(frame: Buffer, offsetAfter: number): boolean {
    if (this.conn.closed) return true;
    this.conn.write(frame);
    this.offset = offsetAfter;
    return this.conn.buffered <= this.shared.deps.options.clientBufferBytes;
  }

  finish(exit: ExitInfo): void {
    this.conn.write(sseFrame('exit', JSON.stringify(this.shared.redact.value(exit))));
    this.conn.end();
  }

  abandon(): void {
    this.conn.end();
  }

  /** Reads from the file until level with the shared follower, then joins it (or ends the stream). */
  async catchUp(): Promise<void> {
    if (this.catching) return;
    this.catching = true;
    const s = this.shared;
    let fh: FileHandle | null = null;
    try {
      await s.ready;
      while (!this.conn.closed) {
        await this.conn.drained();
        if (this.conn.closed || s.stopped) return;
        if (s.failed) return this.abandon();
        if (this.offset < s.pos) {
          fh ??= await open(s.file, 'r');
          const { frame, to } = await readFrame(fh, s.redact, this.offset, s.pos);
          this.conn.write(frame);
          this.offset = to;
        } else if (s.ended) {
          return this.finish(s.ended);
        } else if (this.offset === s.pos) {
          s.joined.add(this);
          return;
        } else {
          await s.progressPast(this.offset, this.conn.signal);
        }
      }
    } catch {
      this.abandon();
    } finally {
      this.catching = false;
      await fh?.close().catch(() => {});
    }
  }
}

/** Every shared log follower of one server. */
export class LogHub {
  private readonly logs = new Map<string, SharedLog>();

  constructor(private readonly deps: Deps) {}

  /** Streams the log to `conn` from `offset` until the run ends (then `exit`) or the client goes. */
  subscribe(runId: string, stream: LogStream, offset: number, conn: SseConnection): void {
    const key = `${runId}/${stream}`;
    let shared = this.logs.get(key);
    if (!shared || shared.stopped) {
      shared = new SharedLog(this.deps, runId, logFile(this.deps.app, runId, stream));
      this.logs.set(key, shared);
    }
    const s = shared;
    s.attached++;
    const sub = new LogSubscriber(s, conn, offset);
    const leave = () => {
      s.joined.delete(sub);
      s.attached--;
      if (s.attached === 0) {
        s.close();
        if (this.logs.get(key) === s) this.logs.delete(key);
      }
    };
    if (conn.closed) {
      leave();
      return;
    }
    conn.signal.addEventListener('abort', leave, { once: true });
    void sub.catchUp();
  }

  /** Followers alive now (for tests and metrics). */
  get size(): number {
    return this.logs.size;
  }

  close(): void {
    for (const s of this.logs.values()) s.close();
    this.logs.clear();
  }
}
