import { statSync } from 'node:fs';
import path from 'node:path';
import type { AgentAdapter } from '../agents/adapter.js';
import { authCategory } from '../agents/cli-failures.js';
import type { AgentEvent, ErrorCategory, TranscriptParser } from '../agents/events.js';
import { estimateCostUsd } from '../agents/prices.js';
import type { Timer } from '../domain/clock.js';
import { formatDuration } from '../domain/exit.js';
import { plainLine } from '../domain/plain-text.js';
import { followFile } from '../runner/file-follower.js';
import { insertRunEvents } from '../store/run-events.js';
import { type RunRow, updateRunFenced } from '../store/runs.js';
import type { EngineContext } from './context.js';
import { LineSplitter } from './line-splitter.js';
import { addToSession, RunUsage, type SessionTotals, type UsageState } from './run-usage.js';

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

/** A failure the adapter recognised: its category says it is not worth retrying. */
export interface Diagnosis {
  category: ErrorCategory;
  message: string;
  status: number | null;
}

/** What is stored beside the parse offset, so a parser made after a restart goes on from there. */
interface SavedState {
  parser?: unknown;
  usage?: UsageState;
}

/**
 * Turns a live run's stdout into stored, normalized events as it grows.
 * Events, the parse offset and the parser's state commit together (fenced by
 * the lease), so after a restart parsing resumes exactly where it stopped:
 * nothing is lost or stored twice. Memory is bounded by one read chunk and one line.
 */
export class TranscriptTail {
  private readonly parser: TranscriptParser;
  private readonly coalesce: boolean;
  private readonly lines: LineSplitter;
  private storedOffset: number;
  private seq: number;
  private pending: AgentEvent[] = [];
  private storedBytes = 0;
  private truncated = false;
  private finished = false;
  /** The agent's own final result, once seen. */
  result: { ok: boolean; text: string } | null = null;
  /** The agent's own account of a failure (a fatal error, a failed result). */
  failure: string | null = null;
  diagnosis: Diagnosis | null = null;
  denials: number;
  unparsed: number;
  /** Set once the run's cost passed its budget: the reason, kept for the verdict. */
  overBudget: string | null = null;
  private following: Promise<number> | null = null;
  private startTimer: Timer | null = null;
  private wakeFollower: () => void = () => {};
  private readonly abort = new AbortController();
  private stopped = false;
  private flushTimer: Timer | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private readonly usage: RunUsage;
  private readonly facts: { sessionId: string | null; model: string | null; notice: string | null };

  constructor(
    private readonly ctx: EngineContext,
    private readonly run: RunRow,
    private readonly runDir: string,
    private readonly token: () => number,
    adapter: AgentAdapter,
    /** The session's totals before this run (resumed sessions), read once at attach. */
    private readonly baseline: Promise<SessionTotals | null>,
    private readonly onVerdict: (v: TranscriptVerdict) => void,
    private readonly describeAuthStop: (d: Diagnosis) => string | null,
  ) {
    const saved = readSaved(run.parser_state);
    this.parser = adapter.parser(saved.parser);
    this.coalesce = adapter.kind === 'command';
    this.lines = new LineSplitter(
      run.parsed_offset,
      (line) => {
        for (const e of this.parser.line(line)) this.accept(e);
      },
      () =>
        this.pending.push({
          type: 'parse_warning',
          message: 'line longer than 1 MiB skipped',
          line: '',
        }),
    );
    this.storedOffset = run.parsed_offset;
    this.seq = run.event_count;
    this.denials = run.denials;
    this.unparsed = run.unparsed_lines;
    // A run parsed by a build that kept no usage state: its stored figures are its own.
    this.usage = new RunUsage(
      saved.usage ?? {
        added: {
          tokensIn: run.tokens_in,
          tokensOut: run.tokens_out,
          cacheRead: run.tokens_cache_read,
          cacheWrite: run.tokens_cache_write,
        },
        addedCost: run.cost_source === 'reported' ? run.cost_usd : null,
        cumulative: null,
        cumulativeCost: null,
      },
    );
    this.facts = { sessionId: run.session_id, model: run.model, notice: run.notice };
  }

  start(): void {
    this.startTimer = this.ctx.app.clock.setTimeout(() => this.follow(), FOLLOW_AFTER_MS);
    this.startTimer.unref();
  }

  private follow(): void {
    this.startTimer = null;
    if (this.following || this.stopped) return;
    this.following = followFile(path.join(this.runDir, 'stdout.log'), {
      offset: this.lines.consumed,
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
    this.ctx.app.clock.clearTimeout(this.startTimer);
    this.startTimer = null;
    this.stopped = true;
    // Only a follower still reading needs the abort (an AbortError is not free to make).
    if (this.following && !this.finished) this.abort.abort();
    this.ctx.app.clock.clearTimeout(this.flushTimer);
    this.flushTimer = null;
  }

  /** The agent has exited: read to the end, parse the last line, store everything. */
  async finish(): Promise<void> {
    this.finished = true;
    this.ctx.app.clock.clearTimeout(this.startTimer);
    this.startTimer = null;
    // Never followed (a short run): one pass to the end, if there is anything to read.
    if (!this.following && fileSize(path.join(this.runDir, 'stdout.log')) > this.lines.consumed)
      this.follow();
    this.wakeFollower();
    await this.following?.catch(() => {});
    this.lines.end();
    for (const e of this.parser.end()) this.accept(e);
    await this.flush();
  }

  /** The agent's session, as it reported it. */
  get sessionId(): string | null {
    return this.facts.sessionId;
  }

  /** Usage the CLI keeps in its own files, read after it exited (adapter.usageAfterExit). */
  async acceptLate(events: AgentEvent[]): Promise<void> {
    for (const e of events) if (e.type === 'usage' || e.type === 'cost') this.accept(e);
    await this.flush();
  }

  /** A retry notice or an error the CLI printed on stderr (see StderrWatch). */
  acceptStderr(e: AgentEvent): void {
    if (e.type === 'retry' || (e.type === 'error' && e.category)) {
      this.accept(e);
      this.scheduleFlush();
    }
  }

  /** An event the engine learned elsewhere (an approval), stored in order with the parsed ones. */
  note(e: AgentEvent): void {
    if (this.stopped || this.finished) return;
    this.accept(e);
    this.scheduleFlush();
  }

  private async take(chunk: Buffer): Promise<void> {
    this.lines.push(chunk);
    if (this.pending.length >= FLUSH_EVENTS) await this.flush();
    else this.scheduleFlush();
  }

  private accept(e: AgentEvent): void {
    switch (e.type) {
      case 'usage':
      case 'cost':
        this.usage.take(e);
        break;
      case 'session':
        this.facts.sessionId = e.sessionId;
        if (e.model) this.facts.model = e.model;
        break;
      case 'result':
        if (e.sessionId) this.facts.sessionId = e.sessionId;
        this.result = { ok: e.ok, text: e.text };
        if (!e.ok) this.failure = plainLine(e.text) || this.failure;
        this.facts.notice = null;
        break;
      case 'error':
        if (e.fatal) this.failure = plainLine(e.message);
        if (e.category && !this.diagnosis) {
          this.diagnosis = {
            category: e.category,
            message: plainLine(e.message),
            status: e.status ?? null,
          };
          this.stopOnAuth(this.diagnosis);
        }
        break;
      case 'denial':
        this.denials++;
        break;
      case 'parse_warning':
        this.unparsed++;
        break;
      case 'retry':
        this.facts.notice = retryNotice(e);
        if (e.status === 401 || e.status === 403) {
          const category = authCategory(e.status, e.message) ?? 'auth';
          this.stopOnAuth({ category, message: plainLine(e.message), status: e.status });
        }
        break;
      case 'message':
      case 'tool_call':
        // The provider answers again: the retry notice is over.
        this.facts.notice = null;
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

  /** A CLI that would retry a rejected key for minutes is stopped at once (stop_on_auth_error). */
  private stopOnAuth(d: Diagnosis): void {
    if (d.category !== 'auth' && d.category !== 'auth_expired') return;
    const reason = this.describeAuthStop(d);
    if (reason) this.onVerdict({ action: 'api_error', reason });
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.pending.length === 0) return;
    this.flushTimer = this.ctx.app.clock.setTimeout(() => {
      this.flushTimer = null;
      return this.flush().catch((e) =>
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
    this.ctx.app.clock.clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const events = this.keep(this.pending.splice(0));
    const offset = this.lines.consumed;
    // Nothing parsed since the last flush (an agent with no output): nothing to write.
    if (events.length === 0 && offset === this.storedOffset) return;
    const baseline = await this.baseline;
    const own = this.usage.own(baseline);
    const estimated = own.reported === null ? estimateCostUsd(this.facts.model, own) : null;
    const cost = own.reported ?? estimated ?? 0;
    const saved: SavedState = { parser: this.parser.snapshot?.(), usage: this.usage.state() };
    const firstSeq = this.seq + 1;
    const ok = await this.ctx.app.store.txGrouped(async (tx) => {
      const fenced = await updateRunFenced(tx, this.run.id, this.token(), {
        parsed_offset: offset,
        parser_state: JSON.stringify(saved),
        event_count: this.seq + events.length,
        tokens_in: own.tokensIn,
        tokens_out: own.tokensOut,
        tokens_cache_read: own.cacheRead,
        tokens_cache_write: own.cacheWrite,
        cost_usd: cost,
        cost_source: own.reported !== null ? 'reported' : estimated !== null ? 'estimated' : null,
        session_totals: JSON.stringify(addToSession(baseline, own, own.reported ?? estimated)),
        session_id: this.facts.sessionId,
        model: this.facts.model,
        notice: this.facts.notice,
        denials: this.denials,
        unparsed_lines: this.unparsed,
      });
      if (fenced && events.length > 0) await insertRunEvents(tx, this.run.id, firstSeq, events);
      return fenced;
    });
    if (!ok) return; // the lease is gone; the lease keeper stops the agent
    this.seq += events.length;
    this.storedOffset = offset;
    const budget = this.run.max_cost_usd;
    if (budget !== null && cost > budget) {
      this.overBudget = `cost $${cost.toFixed(4)} (${own.reported !== null ? 'reported' : 'estimated'}) exceeded the budget of $${budget}`;
      this.onVerdict({ action: 'budget', reason: this.overBudget });
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

function readSaved(text: string | null): SavedState {
  if (!text) return {};
  try {
    const o = JSON.parse(text) as unknown;
    return typeof o === 'object' && o !== null ? (o as SavedState) : {};
  } catch {
    return {};
  }
}

function fileSize(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
}

/** The card's line while the provider is being retried: "retrying (429) 3/10 in 5s: …". */
export function retryNotice(e: Extract<AgentEvent, { type: 'retry' }>): string {
  const status = e.status ? ` (${e.status})` : '';
  const count = e.attempt > 0 ? ` ${e.attempt}${e.maxRetries ? `/${e.maxRetries}` : ''}` : '';
  const delay = e.delayMs !== null && e.delayMs > 0 ? ` in ${formatDuration(e.delayMs)}` : '';
  const message = plainLine(e.message, 160);
  return `retrying${status}${count}${delay}${message ? `: ${message}` : ''}`;
}
