/**
 * The board event feed. The events table is the stream: each client keeps
 * only a cursor (the last id sent), so it resumes after a reconnect or a
 * server restart with no gap. One shared reader per server follows the head
 * of the table and keeps a small window of ready-made frames, so clients that
 * are caught up cost no query each; a client behind that window reads pages
 * of its own.
 */
import type { App } from '../app/context.js';
import {
  type EventRecord,
  eventRecordsAfter,
  eventView,
  lastEventIdOf,
} from '../app/read-events.js';
import type { Redactor } from '../domain/redact.js';
import type { SseConnection, SseOptions } from './sse.js';
import { sseFrame } from './sse.js';

interface Frame {
  id: number;
  text: string;
}

/** Events per query, and the most a client has queued at once. */
const PAGE = 200;
/** Frames the shared window keeps (the newest). */
const WINDOW = 1024;

export class EventFeed {
  /** Frames of every event with an id in (windowFrom, head], oldest first. */
  private window: Frame[] = [];
  private windowFrom = 0;
  private head = 0;
  /** Bumped at each start, so a read begun before a restart of the watch is dropped. */
  private generation = 0;
  private clients = 0;
  private waiters = new Set<() => void>();
  private refreshing: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private seenVersion: number | null = null;
  private started: Promise<void> | null = null;
  private readonly onCommit = (): void => this.refresh();

  constructor(
    private readonly app: App,
    private readonly redact: Redactor,
    private readonly options: SseOptions,
  ) {}

  /** Streams events after `after` (undefined: only new ones) until the connection closes. */
  async serve(conn: SseConnection, after: number | undefined): Promise<void> {
    this.attach();
    try {
      await this.started;
      const last = await lastEventIdOf(this.app);
      // A cursor past the end belongs to another (or a reset) board: start from now.
      let cursor = after === undefined || after > last ? last : after;
      while (!conn.closed) {
        const frames = this.fromWindow(cursor) ?? (await this.fromTable(cursor));
        if (frames.length === 0) {
          await this.waitPast(cursor, conn.signal);
          continue;
        }
        await conn.send(frames.map((f) => f.text).join(''));
        cursor = (frames.at(-1) as Frame).id;
      }
    } finally {
      this.detach();
    }
  }

  /** Stops polling and releases every waiter (server shutdown). */
  close(): void {
    this.stopWatching();
    this.wakeAll();
  }

  private frame(e: EventRecord): Frame {
    return {
      id: e.id,
      text: sseFrame(e.type, JSON.stringify(this.redact.value(eventView(e))), e.id),
    };
  }

  /** Up to a page of frames after `cursor` from the shared window; null when it does not reach back. */
  private fromWindow(cursor: number): Frame[] | null {
    if (cursor < this.windowFrom || cursor > this.head) return null;
    // First frame with an id past the cursor (ids ascend; a gap would not fool it).
    let lo = 0;
    let hi = this.window.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.window[mid] as Frame).id <= cursor) lo = mid + 1;
      else hi = mid;
    }
    return this.window.slice(lo, lo + PAGE);
  }

  private async fromTable(cursor: number): Promise<Frame[]> {
    const rows = await eventRecordsAfter(this.app, { after: cursor, limit: PAGE });
    return rows.map((e) => this.frame(e));
  }

  private waitPast(cursor: number, signal: AbortSignal): Promise<void> {
    if (this.head > cursor || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        this.waiters.delete(wake);
        signal.removeEventListener('abort', wake);
        resolve();
      };
      this.waiters.add(wake);
      signal.addEventListener('abort', wake, { once: true });
    });
  }

  private wakeAll(): void {
    for (const w of [...this.waiters]) w();
  }

  private attach(): void {
    this.clients++;
    if (this.clients === 1) this.started = this.startWatching();
  }

  private detach(): void {
    this.clients--;
    if (this.clients === 0) this.stopWatching();
  }

  /**
   * Commits in this process wake the feed at once; others are noticed by
   * polling, only while someone listens.
   */
  private async startWatching(): Promise<void> {
    const generation = ++this.generation;
    // The window restarts at the current head: nothing is kept while nobody listens.
    const head = await lastEventIdOf(this.app);
    if (generation !== this.generation) return;
    this.head = head;
    this.windowFrom = head;
    this.window = [];
    this.app.store.changes.on('events', this.onCommit);
    this.seenVersion = this.app.store.dataVersion();
    const noVersion = this.seenVersion === null;
    this.timer = setInterval(
      () => {
        if (noVersion) return this.refresh();
        const v = this.app.store.dataVersion();
        if (v !== this.seenVersion) {
          this.seenVersion = v;
          this.refresh();
        }
      },
      noVersion ? this.options.eventPollMsNoVersion : this.options.eventPollMs,
    );
    this.timer.unref();
    // Commits made while the head was being read.
    this.refresh();
  }

  private stopWatching(): void {
    this.generation++;
    this.app.store.changes.off('events', this.onCommit);
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Reads what was committed past the head; concurrent calls fold into one more pass. */
  private refresh(): void {
    if (this.refreshing) {
      this.again = true;
      return;
    }
    const generation = this.generation;
    const live = () => generation === this.generation && this.clients > 0;
    this.refreshing = (async () => {
      try {
        do {
          this.again = false;
          let rows: EventRecord[];
          do {
            rows = await eventRecordsAfter(this.app, { after: this.head, limit: PAGE });
            if (rows.length === 0 || !live()) break;
            for (const e of rows) this.window.push(this.frame(e));
            this.head = (rows.at(-1) as EventRecord).id;
            const excess = this.window.length - WINDOW;
            if (excess > 0) this.windowFrom = (this.window.splice(0, excess).at(-1) as Frame).id;
            this.wakeAll();
          } while (rows.length === PAGE && live());
        } while (this.again && live());
      } catch {
        // The store is unreachable or closing: the next commit or poll tries again.
        this.again = false;
      } finally {
        this.refreshing = null;
        // A wake-up that arrived while a dropped (older) pass was running.
        if (this.again && this.clients > 0) this.refresh();
      }
    })();
  }
}
