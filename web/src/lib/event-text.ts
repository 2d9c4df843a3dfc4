/**
 * What the Activity panel says for each board event type. The map is keyed
 * by the contract's EVENT_TYPES, so a new event type does not compile until
 * it is given words here or listed in IGNORED_EVENT_TYPES; the live feed
 * subscribes to exactly the rendered ones (FEED_EVENT_TYPES), so none is
 * dropped silently. Pure: no DOM, no React (unit-tested under Node).
 */
import { EVENT_TYPES, type EventType, isEventType } from '../../../src/contract/event-types.js';

type Data = Record<string, unknown>;
const s = (d: Data, k: string): string => (typeof d[k] === 'string' ? (d[k] as string) : '');
const status = (v: string) => v.replace('_', ' ');
const task = (d: Data, k: string) => (s(d, k) ? ` ${s(d, k)}` : '');

/** Types the board does not show (none today): listed here, so leaving one out is a choice. */
export const IGNORED_EVENT_TYPES: readonly EventType[] = [];

export const EVENT_TEXT: Record<EventType, (d: Data) => string> = {
  'task.created': (d) => `created${s(d, 'title') ? ` “${s(d, 'title')}”` : ''}`,
  'task.updated': () => 'edited',
  'task.moved': (d) =>
    `moved ${s(d, 'from') ? `${status(s(d, 'from'))} → ` : 'to '}${status(s(d, 'to'))}`,
  'task.deleted': () => 'deleted',
  'task.commented': (d) => `comment by ${s(d, 'author') || 'someone'}`,
  'task.todo_timeout': (d) =>
    `waited too long in Todo${s(d, 'reason') ? `: ${s(d, 'reason')}` : ''}`,
  'run.queued': (d) => `run queued${s(d, 'agent') ? ` for @${s(d, 'agent')}` : ''}`,
  'run.started': () => 'run started',
  'run.finished': (d) =>
    `run finished: ${s(d, 'state') || 'ended'}${typeof d.exitCode === 'number' ? ` (exit ${d.exitCode})` : ''}`,
  'run.stop_requested': (d) => `stop requested${s(d, 'reason') ? `: ${s(d, 'reason')}` : ''}`,
  'run.adopted': () => 'run adopted by another worker',
  'run.reconciled': () => 'run reconciled after its worker died',
  'run.released': (d) => `run released${s(d, 'reason') ? `: ${s(d, 'reason')}` : ''}`,
  'run.queue_timeout': () => 'run waited too long in the queue',
  'message.posted': (d) =>
    `message${s(d, 'author') ? ` from ${s(d, 'author')}` : ''}${s(d, 'type') ? ` (${s(d, 'type')})` : ''}${s(d, 'preview') ? `: ${s(d, 'preview')}` : ''}`,
  'approval.requested': (d) =>
    `asks to use ${s(d, 'tool') || 'a tool'}${s(d, 'preview') ? `: ${s(d, 'preview')}` : ''}`,
  'approval.decided': (d) =>
    `${s(d, 'tool') || 'tool use'} ${s(d, 'state') || 'decided'}${s(d, 'by') ? ` by ${s(d, 'by')}` : ''}`,
  'review.submitted': (d) =>
    s(d, 'verdict') === 'approve'
      ? 'review: approved'
      : `review: changes requested${typeof d.comments === 'number' ? ` (${d.comments} comments)` : ''}`,
  'schedule.created': (d) =>
    `schedule${task(d, 'scheduleId')} added${s(d, 'cron') ? ` (${s(d, 'cron')})` : ''}`,
  'schedule.deleted': (d) => `schedule${task(d, 'scheduleId')} removed`,
  'schedule.ticked': (d) => {
    const ticks = Array.isArray(d.ticks) ? d.ticks.length : 0;
    return `schedule${task(d, 'scheduleId')} ticked${ticks > 1 ? ` ${ticks} times` : ''}`;
  },
  'workspace.created': (d) => `workspace created${task(d, 'branch')}`,
  'workspace.merged': (d) =>
    `branch${task(d, 'branch')} merged${s(d, 'base') ? ` into ${s(d, 'base')}` : ''}`,
  'workspace.discarded': (d) => `workspace discarded${task(d, 'branch')}`,
  'workspace.pushed': (d) =>
    `branch${task(d, 'branch')} pushed${s(d, 'remote') ? ` to ${s(d, 'remote')}` : ''}`,
  'workspace.pull_request': (d) => `pull request opened${s(d, 'url') ? `: ${s(d, 'url')}` : ''}`,
  'workspace.removed': () => 'worktree removed by gc',
  'gc.pruned': () => 'old history pruned',
};

/** The event types the live feed listens for: every rendered one. */
export const FEED_EVENT_TYPES: readonly EventType[] = EVENT_TYPES.filter(
  (t) => !IGNORED_EVENT_TYPES.includes(t),
);

/** What an event says, in a few words; a type this board does not know is named as it is. */
export function describeEvent(type: string, data: Data | null | undefined): string {
  return isEventType(type)
    ? EVENT_TEXT[type](data ?? {})
    : type.replace('.', ' ').replaceAll('_', ' ');
}
