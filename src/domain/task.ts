import {
  PRIORITIES,
  type Priority,
  TASK_STATUSES,
  type TaskStatus,
  USER_MOVES,
} from '../contract/vocabulary.js';
import { IllegalTransitionError, UsageError } from './errors.js';

// The words are the contract's (one list for server, CLI and web); the rules are here.
export {
  PRIORITIES,
  type Priority,
  TASK_STATUSES,
  type TaskStatus,
} from '../contract/vocabulary.js';

/** Higher rank is dispatched first. */
export function priorityRank(p: Priority): number {
  return PRIORITIES.indexOf(p);
}

/** Statuses from which a run may be started; starting moves the card to in_progress. */
const RUN_START_FROM: readonly TaskStatus[] = ['backlog', 'todo', 'review', 'done', 'blocked'];

export type TaskEvent =
  | { type: 'move'; to: TaskStatus }
  | { type: 'cancel' }
  | { type: 'run_started' }
  | { type: 'run_succeeded'; to: 'review' | 'done' }
  | { type: 'run_gave_up' }
  // The last open subtask of a parent held in Review for them was closed.
  | { type: 'subtasks_done' };

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
    case 'subtasks_done': {
      if (from !== 'review') {
        throw new IllegalTransitionError(label, from, 'finish with its subtasks', movesHint(from));
      }
      return 'done';
    }
  }
}

/**
 * A legal step of the task machine. The store writes a task's status only
 * as one of these (store/tasks.ts takes no bare status), and only stepTask
 * makes one (a private member keeps look-alike objects out), so every
 * transition in production is one the machine allowed.
 */
export class TaskStep {
  declare private readonly machine: 'task';
  private constructor(
    readonly from: TaskStatus,
    readonly to: TaskStatus,
  ) {}

  static of(from: TaskStatus, event: TaskEvent, label = 'task'): TaskStep {
    return new TaskStep(from, transitionTask(from, event, label));
  }
}

/** The step `event` makes from `from`; throws IllegalTransitionError when there is none. */
export function stepTask(from: TaskStatus, event: TaskEvent, label = 'task'): TaskStep {
  return TaskStep.of(from, event, label);
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
