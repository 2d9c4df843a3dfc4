import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { IllegalTransitionError, UsageError } from '../../src/domain/errors.js';
import {
  allowedMoves,
  canStartRun,
  PRIORITIES,
  parsePriority,
  parseTaskStatus,
  priorityRank,
  stepTask,
  TASK_STATUSES,
  type TaskEvent,
  type TaskStatus,
  transitionTask,
} from '../../src/domain/task.js';

/**
 * The expected machine, written out independently of the implementation:
 * where a user may move a card (besides reordering within its column), and
 * from where a run may start.
 */
const USER_MOVES: Record<TaskStatus, TaskStatus[]> = {
  backlog: ['todo', 'done', 'cancelled'],
  todo: ['backlog', 'done', 'cancelled'],
  in_progress: ['cancelled'],
  review: ['done', 'todo', 'backlog', 'cancelled'],
  done: ['todo', 'backlog', 'review'],
  blocked: ['todo', 'backlog', 'done', 'cancelled'],
  cancelled: ['backlog', 'todo'],
};
const RUN_START_FROM: TaskStatus[] = ['backlog', 'todo', 'review', 'done', 'blocked'];

const EVENTS: TaskEvent[] = [
  ...TASK_STATUSES.map((to): TaskEvent => ({ type: 'move', to })),
  { type: 'cancel' },
  { type: 'run_started' },
  { type: 'run_succeeded', to: 'review' },
  { type: 'run_succeeded', to: 'done' },
  { type: 'run_gave_up' },
  { type: 'subtasks_done' },
];

/** The expected result of (status, event), or null when the event is illegal there. */
function expected(from: TaskStatus, e: TaskEvent): TaskStatus | null {
  switch (e.type) {
    case 'move':
      if (e.to === from) return from; // reorder within the column
      return USER_MOVES[from].includes(e.to) ? e.to : null;
    case 'cancel':
      return from === 'cancelled' ? null : 'cancelled';
    case 'run_started':
      return RUN_START_FROM.includes(from) ? 'in_progress' : null;
    case 'run_succeeded':
      return from === 'in_progress' ? e.to : null;
    case 'run_gave_up':
      return from === 'in_progress' ? 'blocked' : null;
    case 'subtasks_done':
      return from === 'review' ? 'done' : null;
  }
}

function label(e: TaskEvent): string {
  if (e.type === 'move' || e.type === 'run_succeeded') return `${e.type}(${e.to})`;
  return e.type;
}

describe('transitionTask: every status x every event', () => {
  for (const from of TASK_STATUSES) {
    for (const e of EVENTS) {
      const want = expected(from, e);
      const name = `${from} + ${label(e)} -> ${want ?? 'IllegalTransitionError'}`;
      test(name, () => {
        if (want !== null) {
          assert.equal(transitionTask(from, e), want);
          return;
        }
        assert.throws(
          () => transitionTask(from, e, 'T-7'),
          (err: unknown) => {
            assert.ok(err instanceof IllegalTransitionError, `got ${String(err)}`);
            assert.equal(err.code, 'illegal_transition');
            assert.equal(err.exitCode, 1);
            // Names the card and its current state...
            assert.match(err.message, new RegExp(`^T-7 is ${from}: cannot `));
            // ...and every move that is allowed from there.
            const moves = USER_MOVES[from].map((s) => `move to ${s}`);
            if (RUN_START_FROM.includes(from)) moves.push('start a run');
            assert.ok(
              err.message.endsWith(`Allowed from ${from}: ${moves.join(', ')}.`),
              err.message,
            );
            assert.deepEqual(err.details.allowed, moves);
            assert.equal(err.details.from, from);
            return true;
          },
        );
      });
    }
  }
});

test('the table covers 7 statuses x 13 events, and in_progress is never a user destination', () => {
  assert.equal(TASK_STATUSES.length * EVENTS.length, 91);
  for (const from of TASK_STATUSES) {
    if (from !== 'in_progress') {
      assert.throws(() => transitionTask(from, { type: 'move', to: 'in_progress' }), {
        name: 'IllegalTransitionError',
      });
    }
    assert.deepEqual([...allowedMoves(from)].sort(), [...USER_MOVES[from]].sort());
    assert.equal(canStartRun(from), RUN_START_FROM.includes(from));
  }
});

test("stepTask is the machine's answer with where it came from, and refuses what it refuses", () => {
  for (const from of TASK_STATUSES) {
    for (const e of EVENTS) {
      const want = expected(from, e);
      if (want === null) assert.throws(() => stepTask(from, e), { name: 'IllegalTransitionError' });
      else {
        const step = stepTask(from, e);
        assert.deepEqual([step.from, step.to], [from, want]);
      }
    }
  }
});

test('starting a second run names the problem', () => {
  assert.throws(() => transitionTask('in_progress', { type: 'run_started' }, 'T-3'), {
    message:
      'T-3 is in_progress: cannot start another run. Allowed from in_progress: move to cancelled.',
  });
});

test('parseTaskStatus accepts the names users type, and refuses others listing the valid ones', () => {
  assert.equal(parseTaskStatus('in_progress'), 'in_progress');
  assert.equal(parseTaskStatus('In Progress'), 'in_progress');
  assert.equal(parseTaskStatus(' in-progress '), 'in_progress');
  assert.equal(parseTaskStatus('DONE'), 'done');
  for (const bad of ['', 'finished', 'in__progress', 'todo!']) {
    assert.throws(
      () => parseTaskStatus(bad),
      (e: unknown) =>
        e instanceof UsageError &&
        e.exitCode === 2 &&
        e.message.includes(`"${bad}"`) &&
        e.message.includes(TASK_STATUSES.join(', ')),
    );
  }
});

test('parsePriority and priorityRank', () => {
  assert.deepEqual(
    PRIORITIES.map((p) => priorityRank(parsePriority(p.toUpperCase()))),
    [0, 1, 2, 3],
  );
  assert.ok(priorityRank('urgent') > priorityRank('high'));
  assert.throws(() => parsePriority('extreme'), {
    message: 'unknown priority "extreme": valid priorities are low, medium, high, urgent',
  });
});
