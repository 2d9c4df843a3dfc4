import { IllegalTransitionError, UsageError } from './errors.js';

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

export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Higher rank is dispatched first. */
export function priorityRank(p: Priority): number {
  return PRIORITIES.indexOf(p);
}

/**
 * Where a user may move a card. `in_progress` is never a user destination:
 * a card is in progress exactly while it has an active run, so the way in is
 * starting a run and the way out is the run ending (or a cancel).
 */
const USER_MOVES: Record<TaskStatus, readonly TaskStatus[]> = {
  backlog: ['todo', 'done', 'cancelled'],
  todo: ['backlog', 'done', 'cancelled'],
  in_progress: ['cancelled'],
  review: ['done', 'todo', 'backlog', 'cancelled'],
  done: ['todo', 'backlog', 'review'],
  blocked: ['todo', 'backlog', 'done', 'cancelled'],
  cancelled: ['backlog', 'todo'],
};

/** Statuses from which a run may be started; starting moves the card to in_progress. */
const RUN_START_FROM: readonly TaskStatus[] = ['backlog', 'todo', 'review', 'done', 'blocked'];

export type TaskEvent =
  | { type: 'move'; to: TaskStatus }
  | { type: 'cancel' }
  | { type: 'run_started' }
  | { type: 'run_succeeded'; to: 'review' | 'done' }
  | { type: 'run_gave_up' };

export function allowedMoves(from: TaskStatus): readonly TaskStatus[] {
  return USER_MOVES[from];
}

export function canStartRun(from: TaskStatus): boolean {
  return RUN_START_FROM.includes(from);
}

/** The task state machine: pure, total over (status, event), refusing illegal moves. */
export function transitionTask(from: TaskStatus, event: TaskEvent, label = 'task'): TaskStatus {
  switch (event.type) {
    case 'move': {
      if (event.to === from) return from; // a reorder within the column
      if (!USER_MOVES[from].includes(event.to)) {
        throw new IllegalTransitionError(label, from, `move to ${event.to}`, movesHint(from));
      }
      return event.to;
    }
    case 'cancel': {
      if (from === 'cancelled') {
        throw new IllegalTransitionError(label, from, 'cancel', movesHint(from));
      }
      return 'cancelled';
    }
    case 'run_started': {
      if (!canStartRun(from)) {
        const why = from === 'in_progress' ? 'start another run' : 'start a run';
        throw new IllegalTransitionError(label, from, why, movesHint(from));
      }
      return 'in_progress';
    }
    case 'run_succeeded':
    case 'run_gave_up': {
      if (from !== 'in_progress') {
        throw new IllegalTransitionError(label, from, `apply ${event.type}`, movesHint(from));
      }
      return event.type === 'run_succeeded' ? event.to : 'blocked';
    }
  }
}

function movesHint(from: TaskStatus): string[] {
  const moves = USER_MOVES[from].map((s) => `move to ${s}`);
  if (canStartRun(from)) moves.push('start a run');
  return moves;
}

export function parseTaskStatus(input: string): TaskStatus {
  const norm = input
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  const found = TASK_STATUSES.find((s) => s === norm);
  if (!found) {
    throw new UsageError(
      `unknown status "${input}": valid statuses are ${TASK_STATUSES.join(', ')}`,
      {
        field: 'status',
      },
    );
  }
  return found;
}

export function parsePriority(input: string): Priority {
  const norm = input.trim().toLowerCase();
  const found = PRIORITIES.find((p) => p === norm);
  if (!found) {
    throw new UsageError(
      `unknown priority "${input}": valid priorities are ${PRIORITIES.join(', ')}`,
      {
        field: 'priority',
      },
    );
  }
  return found;
}
