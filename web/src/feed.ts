import { useEffect, useSyncExternalStore } from 'react';
import { FEED_EVENT_TYPES } from './lib/event-text';
import type { BoardEvent } from './types';

/**
 * The board's live event feed (SSE). EventSource retries a dropped connection
 * by itself, sending Last-Event-ID; when it gives up (the server answered an
 * error, e.g. while restarting) we open a new one resuming with `?after=`.
 * Every reconnect also asks the pages to reload, in case events were missed.
 */

export type FeedStatus = 'connecting' | 'live' | 'offline';
type EventListener = (e: BoardEvent) => void;

const MAX_KEPT = 500;

class BoardFeed {
  status: FeedStatus = 'connecting';
  lastId = 0;
  /** Newest last, for the activity panel. */
  recent: BoardEvent[] = [];
  private source: EventSource | null = null;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryMs = 500;
  private everLive = false;
  private seeded = false;
  private seeding = false;
  private readonly statusListeners = new Set<() => void>();
  private readonly eventListeners = new Set<EventListener>();
  private readonly reconnectListeners = new Set<() => void>();

  /**
   * Connects: first the latest events (the activity panel's history, and the
   * id the feed resumes after, so nothing slips between the two), then SSE.
   */
  start(): void {
    if (this.source || this.seeding) return;
    if (this.seeded) {
      this.open();
      return;
    }
    this.seeding = true;
    fetch('/api/v1/events/recent?limit=100', { credentials: 'same-origin' })
      .then(async (res) => {
        if (!res.ok) return;
        const r = (await res.json()) as { items: BoardEvent[]; last: number };
        if (this.lastId === 0) {
          this.recent = r.items;
          this.lastId = r.last;
        }
        this.seeded = true;
        for (const l of this.statusListeners) l();
      })
      .catch(() => {})
      .finally(() => {
        this.seeding = false;
        this.open();
      });
  }

  private open(): void {
    if (this.source) return;
    const url = `/api/v1/events/stream${this.lastId > 0 ? `?after=${this.lastId}` : ''}`;
    const es = new EventSource(url, { withCredentials: true });
    this.source = es;
    es.onopen = () => {
      this.retryMs = 500;
      const wasLive = this.everLive;
      this.everLive = true;
      this.setStatus('live');
      if (wasLive) for (const l of this.reconnectListeners) l();
    };
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) {
        this.source = null;
        this.setStatus('offline');
        clearTimeout(this.retryTimer);
        this.retryTimer = setTimeout(() => this.start(), this.retryMs);
        this.retryMs = Math.min(this.retryMs * 2, 5000);
      } else {
        this.setStatus('connecting');
      }
    };
    const onEvent = (m: MessageEvent<string>) => this.receive(m);
    es.onmessage = onEvent;
    for (const t of FEED_EVENT_TYPES) es.addEventListener(t, onEvent);
  }

  private receive(m: MessageEvent<string>): void {
    let e: BoardEvent;
    try {
      e = JSON.parse(m.data) as BoardEvent;
    } catch {
      return;
    }
    if (typeof e.id !== 'number' || e.id <= this.lastId) return;
    this.lastId = e.id;
    this.recent.push(e);
    if (this.recent.length > MAX_KEPT) this.recent.splice(0, this.recent.length - MAX_KEPT);
    for (const l of this.eventListeners) l(e);
    for (const l of this.statusListeners) l();
  }

  /** Connects now rather than at the next retry (e.g. just after logging in). */
  reconnect(): void {
    if (this.source) return;
    clearTimeout(this.retryTimer);
    this.retryMs = 500;
    this.start();
  }

  private setStatus(s: FeedStatus): void {
    if (this.status === s) return;
    this.status = s;
    for (const l of this.statusListeners) l();
  }

  onChange(l: () => void): () => void {
    this.statusListeners.add(l);
    return () => this.statusListeners.delete(l);
  }

  onEvent(l: EventListener): () => void {
    this.eventListeners.add(l);
    return () => this.eventListeners.delete(l);
  }

  onReconnect(l: () => void): () => void {
    this.reconnectListeners.add(l);
    return () => this.reconnectListeners.delete(l);
  }
}

export const feed = new BoardFeed();

export function useFeedStatus(): FeedStatus {
  return useSyncExternalStore(
    (l) => feed.onChange(l),
    () => feed.status,
  );
}

/** The kept events; re-renders on each new one. */
export function useRecentEvents(): BoardEvent[] {
  useSyncExternalStore(
    (l) => feed.onChange(l),
    () => feed.lastId,
  );
  return feed.recent;
}

const ANY = () => true;

/** Calls `onChange` (debounced) after board events matching `filter`, and after a reconnect. */
export function useFeedRefresh(
  onChange: () => void,
  filter: (e: BoardEvent) => boolean = ANY,
  delayMs = 250,
): void {
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const schedule = () => {
      if (timer === undefined) {
        timer = setTimeout(() => {
          timer = undefined;
          onChange();
        }, delayMs);
      }
    };
    const offEvent = feed.onEvent((e) => {
      if (filter(e)) schedule();
    });
    const offReconnect = feed.onReconnect(schedule);
    return () => {
      offEvent();
      offReconnect();
      clearTimeout(timer);
    };
  }, [onChange, filter, delayMs]);
}
