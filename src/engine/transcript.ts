import { statSync } from 'node:fs';
import path from 'node:path';
import type { AgentAdapter } from '../agents/adapter.js';
import type { AgentEvent, TranscriptParser } from '../agents/events.js';
import { estimateCostUsd } from '../agents/prices.js';
import { followFile } from '../runner/file-follower.js';
import { insertRunEvents } from '../store/run-events.js';
import { type RunRow, updateRunFenced } from '../store/runs.js';
import type { EngineContext } from './context.js';

const MAX_LINE_BYTES = 1 << 20;
const FLUSH_EVENTS = 200;
const FLUSH_MS = 100;
/**
 * How long a run lives before its log is followed live. Most of a follow's
 * cost is its setup (a file handle, inotify), and a run that ends sooner is
 * read once, at its end, which loses nothing: the raw log has every byte.
 */
const FOLLOW_AFTER_MS = 200;
/** Beyond this much stored text, bulky events are dropped (the raw log keeps every byte). */
const MAX_STORED_BYTES = 8 << 20;
const COALESCE_BYTES = 64 << 10;
const BULKY = new Set(['message', 'thinking', 'tool_result', 'raw']);

export interface TranscriptVerdict {
  action: 'budget' | 'api_error';
  reason: string;
}

/**
 * Turns a live run's stdout into stored, normalized events as it grows.
 * Events and the parse offset commit together (fenced by the lease), so after
 * a restart parsing resumes exactly where it stopped: nothing is lost or
 * stored twice. Memory is bounded by one read chunk and one line.
 */
export class TranscriptTail {
  private readonly parser: TranscriptParser;
  private readonly coalesce: boolean;
  private consumed: number;
  private storedOffset: number;
  private seq: number;
  private pending: AgentEvent[] = [];
  private line: Buffer[] = [];
  private lineBytes = 0;
  private skippingLongLine = false;
  private storedBytes = 0;
  private truncated = false;
  private finished = false;
  /** The agent's own account of a failure (a fatal error, a failed result). */
  failure: string | null = null;
  private following: Promise<number> | null = null;
  private startTimer: NodeJS.Timeout | null = null;
  private wakeFollower: () => void = () => {};
  private readonly abort = new AbortController();
  private stopped = false;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly totals: {
    tokensIn: number;
    tokensOut: number;
    cacheRead: number;
    cacheWrite: number;
    reported: number | null;
    sessionId: string | null;
    model: string | null;
    notice: string | null;
  };

  constructor(
    private readonly ctx: EngineContext,
    private readonly run: RunRow,
    private readonly runDir: string,
    private readonly token: () => number,
    adapter: AgentAdapter,
    private readonly onVerdict: (v: TranscriptVerdict) => void,
    private readonly stopOnAuthError: boolean,
  ) {
    this.parser = adapter.parser();
    this.coalesce = adapter.kind === 'command';
    this.consumed = run.parsed_offset;
    this.storedOffset = run.parsed_offset;
    this.seq = run.event_count;
    this.totals = {
      tokensIn: run.tokens_in,
      tokensOut: run.tokens_out,
      cacheRead: run.tokens_cache_read,
      cacheWrite: run.tokens_cache_write,
      reported: run.cost_source === 'reported' ? run.cost_usd : null,
      sessionId: run.session_id,
      model: run.model,
      notice: run.notice,
    };
  }

  start(): void {
    this.startTimer = setTimeout(() => this.follow(), FOLLOW_AFTER_MS);
    this.startTimer.unref();
  }

  private follow(): void {
    this.startTimer = null;
    if (this.following || this.stopped) return;
    this.following = followFile(path.join(this.runDir, 'stdout.log'), {
      offset: this.consumed,
      signal: this.abort.signal,
      done: () => this.finished,
      onChunk: (chunk) => this.take(chunk),
      onWaker: (wake) => {
        this.wakeFollower = wake;
      },
    });
    this.following.catch((e) =>
      this.ctx.log.warn(`transcript of ${this.run.id}: ${(e as Error).message}`),
    );
  }

  /**
   * Stops reading without storing what is pending: the engine is shutting
   * down (or lost the run), and the next owner resumes from the stored offset.
   */
  stop(): void {
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = null;
    this.stopped = true;
    // Only a follower still reading needs the abort (an AbortError is not free to make).
    if (this.following && !this.finished) this.abort.abort();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  /** The agent has exited: read to the end, parse the last line, store everything. */
  async finish(): Promise<void> {
    this.finished = true;
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = null;
    // Never followed (a short run): one pass to the end, if there is anything to read.
    if (!this.following && fileSize(path.join(this.runDir, 'stdout.log')) > this.consumed)
      this.follow();
    this.wakeFollower();
    await this.following?.catch(() => {});
    if (this.lineBytes > 0 && !this.skippingLongLine) this.parseLine(Buffer.concat(this.line));
    this.consumed += this.lineBytes;
    this.line = [];
    this.lineBytes = 0;
    this.pending.push(...this.parser.end());
    await this.flush();
  }

  private async take(chunk: Buffer): Promise<void> {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      if (!this.skippingLongLine) {
        this.line.push(piece);
        this.parseLine(Buffer.concat(this.line));
      }
      this.consumed += this.lineBytes + piece.length + 1;
      this.line = [];
      this.lineBytes = 0;
      this.skippingLongLine = false;
      start = nl + 1;
    }
    const rest = chunk.subarray(start);
    if (rest.length > 0) {
      if (!this.skippingLongLine && this.lineBytes + rest.length > MAX_LINE_BYTES) {
        this.pending.push({
          type: 'parse_warning',
          message: 'line longer than 1 MiB skipped',
          line: '',
        });
        this.skippingLongLine = true;
        this.line = [];
      }
      if (!this.skippingLongLine) this.line.push(Buffer.from(rest));
      this.lineBytes += rest.length;
    }
    if (this.pending.length >= FLUSH_EVENTS) await this.flush();
    else this.scheduleFlush();
  }

  private parseLine(buf: Buffer): void {
    for (const e of this.parser.line(buf.toString('utf8').replace(/\r$/, ''))) this.accept(e);
  }

  private accept(e: AgentEvent): void {
    switch (e.type) {
      case 'usage':
        this.totals.tokensIn += e.tokensIn;
        this.totals.tokensOut += e.tokensOut;
        this.totals.cacheRead += e.cacheRead;
        this.totals.cacheWrite += e.cacheWrite;
        break;
      case 'cost':
        this.totals.reported = (this.totals.reported ?? 0) + e.usd;
        break;
      case 'session':
        this.totals.sessionId = e.sessionId;
        if (e.model) this.totals.model = e.model;
        break;
      case 'result':
        if (e.sessionId) this.totals.sessionId = e.sessionId;
        if (!e.ok) this.failure = e.text || this.failure;
        break;
      case 'error':
        if (e.fatal) this.failure = e.message;
        break;
      case 'retry':
        this.totals.notice = retryNotice(e);
        if ((e.status === 401 || e.status === 403) && this.stopOnAuthError) {
          this.onVerdict({
            action: 'api_error',
            reason: `the model API rejects the credentials (${e.status} ${e.message}): check the agent's API key`,
          });
        }
        break;
    }
    const last = this.pending.at(-1);
    if (
      this.coalesce &&
      e.type === 'message' &&
      last?.type === 'message' &&
      last.text.length < COALESCE_BYTES
    ) {
      last.text += `\n${e.text}`;
      return;
    }
    this.pending.push(e);
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.pending.length === 0) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      void this.flush().catch((e) =>
        this.ctx.log.warn(`transcript of ${this.run.id}: ${(e as Error).message}`),
      );
    }, FLUSH_MS);
  }

  /** Serialized: each flush commits events with the offset they bring parsing to. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.flushNow());
    return this.flushing;
  }

  private async flushNow(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const events = this.keep(this.pending.splice(0));
    const offset = this.consumed;
    // Nothing parsed since the last flush (an agent with no output): nothing to write.
    if (events.length === 0 && offset === this.storedOffset) return;
    const t = this.totals;
    const estimated = t.reported === null ? estimateCostUsd(t.model, t) : null;
    const cost = t.reported ?? estimated ?? 0;
    const firstSeq = this.seq + 1;
    const ok = await this.ctx.app.store.txGrouped(async (tx) => {
      const fenced = await updateRunFenced(tx, this.run.id, this.token(), {
        parsed_offset: offset,
        event_count: this.seq + events.length,
        tokens_in: t.tokensIn,
        tokens_out: t.tokensOut,
        tokens_cache_read: t.cacheRead,
        tokens_cache_write: t.cacheWrite,
        cost_usd: cost,
        cost_source: t.reported !== null ? 'reported' : estimated !== null ? 'estimated' : null,
        session_id: t.sessionId,
        model: t.model,
        notice: t.notice,
      });
      if (fenced && events.length > 0) await insertRunEvents(tx, this.run.id, firstSeq, events);
      return fenced;
    });
    if (!ok) return; // the lease is gone; the lease keeper stops the agent
    this.seq += events.length;
    this.storedOffset = offset;
    const budget = this.run.max_cost_usd;
    if (budget !== null && cost > budget) {
      this.onVerdict({
        action: 'budget',
        reason: `cost $${cost.toFixed(4)} exceeded the budget of $${budget}`,
      });
    }
  }

  private keep(events: AgentEvent[]): AgentEvent[] {
    const out: AgentEvent[] = [];
    for (const e of events) {
      if (this.truncated && BULKY.has(e.type)) continue;
      this.storedBytes += JSON.stringify(e).length;
      if (this.storedBytes > MAX_STORED_BYTES && BULKY.has(e.type)) {
        this.truncated = true;
        out.push({
          type: 'parse_warning',
          message: 'transcript storage limit reached: later messages are only in the raw log',
          line: '',
        });
        continue;
      }
      out.push(e);
    }
    return out;
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

export function retryNotice(e: Extract<AgentEvent, { type: 'retry' }>): string {
  const what =
    e.status === 401 || e.status === 403
      ? `model API auth failing (${e.status})`
      : `model API error${e.status ? ` (${e.status})` : ''}: ${e.message}`;
  return `${what}, retry ${e.attempt}${e.maxRetries ? ` of ${e.maxRetries}` : ''}`;
}
