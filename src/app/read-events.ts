/**
 * Reading the board's events for the API and its live feed: the server goes
 * through here, never to the store itself.
 */
import type { EventView, RecentEvents } from '../contract/views.js';
import { formatTaskId } from '../domain/ids.js';
import { type EventRecord, lastEventId, readEvents } from '../store/events.js';
import type { App } from './context.js';

export type { EventRecord };

export function eventView(e: EventRecord): EventView {
  return {
    id: e.id,
    type: e.type,
    taskId: e.taskId === null ? null : formatTaskId(e.taskId),
    runId: e.runId,
    data: e.data,
    createdAt: new Date(e.createdAt).toISOString(),
  };
}

/** Events after `after`, oldest first (the feed's raw records: it frames them itself). */
export function eventRecordsAfter(
  app: App,
  o: { after: number; limit: number; taskId?: number },
): Promise<EventRecord[]> {
  return readEvents(app.store.db, o);
}

/** The newest event's id; 0 on an empty board. */
export function lastEventIdOf(app: App): Promise<number> {
  return lastEventId(app.store.db);
}

/** A page of events after a cursor, with the cursor for the next one. */
export async function eventPage(
  app: App,
  o: { after: number; limit: number; taskId?: number },
): Promise<{ items: EventView[]; next: number; more: boolean }> {
  const items = await readEvents(app.store.db, o);
  return {
    items: items.map(eventView),
    next: items.at(-1)?.id ?? o.after,
    more: items.length === o.limit,
  };
}

/** The latest `limit` events, oldest first, and the last id (where the SSE feed resumes). */
export async function recentEvents(app: App, limit: number): Promise<RecentEvents> {
  const last = await lastEventId(app.store.db);
  // Event ids are gap-free, so the last `limit` events are exactly those after last - limit.
  const items = await readEvents(app.store.db, { after: Math.max(0, last - limit), limit });
  return { items: items.map(eventView), last };
}
