import pg from 'pg';

/** The channel every committed transaction with events notifies (pg_notify, delivered at commit). */
export const EVENTS_CHANNEL = 'agentboard_events';

/** What a notification carries: who committed, and the event types of the transaction. */
export interface ChangeNotice {
  origin: string;
  types: string[];
}

export function encodeNotice(n: ChangeNotice): string {
  // Notification payloads are capped at 8000 bytes; the types of one transaction are few.
  return JSON.stringify({ o: n.origin, t: n.types.slice(0, 50) });
}

function decodeNotice(payload: string | undefined): ChangeNotice | null {
  try {
    const v = JSON.parse(payload ?? '') as { o?: unknown; t?: unknown };
    if (typeof v.o !== 'string' || !Array.isArray(v.t)) return null;
    return { origin: v.o, types: v.t.filter((t): t is string => typeof t === 'string') };
  } catch {
    return null;
  }
}

export interface ListenerHandlers {
  notice(n: ChangeNotice): void;
  /** The connection is up (again): notifications sent while it was down were lost. */
  up(): void;
  down(error: Error): void;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 5000;

/**
 * A dedicated connection that LISTENs for commits by other processes. It
 * reconnects with exponential backoff; each (re)connection is reported so the
 * caller can look at the database once, covering what was missed meanwhile.
 */
export class PgListener {
  private client: pg.Client | null = null;
  private closed = false;
  private delay = BACKOFF_MIN_MS;
  private timer: NodeJS.Timeout | null = null;
  connected = false;

  constructor(
    private readonly url: string,
    private readonly handlers: ListenerHandlers,
  ) {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({
      connectionString: this.url,
      keepAlive: true,
      connectionTimeoutMillis: 5000,
    });
    this.client = client;
    let failed = false;
    const fail = (e: Error) => {
      if (failed) return;
      failed = true;
      client.removeAllListeners('notification');
      client.end().catch(() => {});
      if (this.client === client) this.client = null;
      if (this.connected) {
        this.connected = false;
        this.handlers.down(e);
      }
      this.retry();
    };
    client.on('error', fail);
    client.on('end', () => fail(new Error('the LISTEN connection ended')));
    client.on('notification', (m) => {
      const n = decodeNotice(m.payload);
      if (n) this.handlers.notice(n);
    });
    try {
      await client.connect();
      await client.query(`listen ${EVENTS_CHANNEL}`);
    } catch (e) {
      fail(e as Error);
      return;
    }
    if (this.closed) {
      await client.end().catch(() => {});
      return;
    }
    this.delay = BACKOFF_MIN_MS;
    this.connected = true;
    this.handlers.up();
  }

  private retry(): void {
    if (this.closed || this.timer) return;
    const wait = this.delay * (0.5 + Math.random() / 2);
    this.delay = Math.min(BACKOFF_MAX_MS, this.delay * 2);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, wait);
    this.timer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const c = this.client;
    this.client = null;
    this.connected = false;
    if (c) {
      c.removeAllListeners();
      c.on('error', () => {});
      await c.end().catch(() => {});
    }
  }
}
