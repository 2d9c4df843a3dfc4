/**
 * The board's words, as plain constant lists: task and run states, priorities,
 * the moves a user may make, message and schedule kinds. No zod and no import
 * here, so the domain, the server and the web bundle all take them from one
 * place without pulling anything else in.
 */

export const TASK_STATUSES = [
  'backlog',
  'todo',
  'in_progress',
  'review',
  'done',
  'blocked',
  'cancelled',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** The board's columns, left to right; Cancelled is shown only on demand. */
export const BOARD_COLUMNS = [
  'backlog',
  'todo',
  'in_progress',
  'review',
  'done',
  'blocked',
] as const satisfies readonly TaskStatus[];

export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const RUN_STATES = [
  'queued',
  'claimed',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'lost',
] as const;
export type RunState = (typeof RUN_STATES)[number];

export const ACTIVE_RUN_STATES = ['queued', 'claimed', 'running'] as const;
export type ActiveRunState = (typeof ACTIVE_RUN_STATES)[number];
export const TERMINAL_RUN_STATES = [
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'lost',
] as const;
export type TerminalRunState = (typeof TERMINAL_RUN_STATES)[number];

export function isActiveRunState(s: string): s is ActiveRunState {
  return (ACTIVE_RUN_STATES as readonly string[]).includes(s);
}

/**
 * Where a user may move a card. `in_progress` is never a user destination:
 * a card is in progress exactly while it has an active run, so the way in is
 * starting a run and the way out is the run ending (or a cancel).
 */
export const USER_MOVES: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  backlog: ['todo', 'done', 'cancelled'],
  todo: ['backlog', 'done', 'cancelled'],
  in_progress: ['cancelled'],
  review: ['done', 'todo', 'backlog', 'cancelled'],
  done: ['todo', 'backlog', 'review'],
  blocked: ['todo', 'backlog', 'done', 'cancelled'],
  cancelled: ['backlog', 'todo'],
};

/** What people and agents post to the bus (the CLI, the API and MCP take only these). */
export const POST_MESSAGE_TYPES = ['PROGRESS', 'FACT', 'DECISION', 'QUESTION', 'ERROR'] as const;
/** Reserved to the engine, which posts them with a run's start and end. */
export const SYSTEM_MESSAGE_TYPES = ['RUN_START', 'RUN_STOP'] as const;
export const MESSAGE_TYPES = [...POST_MESSAGE_TYPES, ...SYSTEM_MESSAGE_TYPES] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export const CATCH_UP_POLICIES = ['skip', 'latest', 'all'] as const;
export type CatchUp = (typeof CATCH_UP_POLICIES)[number];
export const OVERLAP_POLICIES = ['skip', 'queue', 'allow'] as const;
export type Overlap = (typeof OVERLAP_POLICIES)[number];
export const TICK_OUTCOMES = ['run', 'skipped', 'waiting', 'idle'] as const;
export type TickOutcome = (typeof TICK_OUTCOMES)[number];

export const VERSION_STATUSES = ['tested', 'older', 'newer', 'unknown'] as const;

/** Why a run was queued. */
export const RUN_TRIGGERS = [
  'manual',
  'autostart',
  'retry',
  'loop',
  'mention',
  'schedule',
  'reassign',
  'review',
] as const;
export type RunTrigger = (typeof RUN_TRIGGERS)[number];

/**
 * An approval request's life: pending until a person (or a task rule, or
 * `approval_timeout`) decides; `cancelled` when its run ended first.
 */
export const APPROVAL_STATES = ['pending', 'allowed', 'denied', 'expired', 'cancelled'] as const;
export type ApprovalState = (typeof APPROVAL_STATES)[number];

/** A review's outcome: send the comments back to the agent, or accept the work (Done). */
export const REVIEW_VERDICTS = ['request_changes', 'approve'] as const;
export type ReviewVerdict = (typeof REVIEW_VERDICTS)[number];

/** What a stop request does to the task once the run has ended. */
export const STOP_ACTIONS = ['block', 'cancel', 'timeout', 'idle', 'budget', 'api_error'] as const;
export type StopAction = (typeof STOP_ACTIONS)[number];

/** Whether `s` is one of `list`: narrows text read from outside (a database column, a query). */
export function isOneOf<T extends string>(list: readonly T[], s: string): s is T {
  return (list as readonly string[]).includes(s);
}
