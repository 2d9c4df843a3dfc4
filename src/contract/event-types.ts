/**
 * Every board event type, in one list. The store types `appendEvent` with it,
 * and the web's live feed subscribes from it (src/contract/events.ts has each
 * one's payload). Kept free of zod so the web bundle can import it alone.
 */
export const EVENT_TYPES = [
  'task.created',
  'task.updated',
  'task.moved',
  'task.deleted',
  'task.commented',
  'task.todo_timeout',
  'run.queued',
  'run.started',
  'run.finished',
  'run.stop_requested',
  'run.adopted',
  'run.reconciled',
  'run.released',
  'run.queue_timeout',
  'message.posted',
  'approval.requested',
  'approval.decided',
  'review.submitted',
  'schedule.created',
  'schedule.deleted',
  'schedule.ticked',
  'workspace.created',
  'workspace.merged',
  'workspace.discarded',
  'workspace.pushed',
  'workspace.pull_request',
  'workspace.removed',
  'gc.pruned',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export function isEventType(s: string): s is EventType {
  return (EVENT_TYPES as readonly string[]).includes(s);
}
