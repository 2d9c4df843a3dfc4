import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TASK_STATUSES, type TaskStatus } from '../../src/contract/vocabulary.js';
import { transitionTask } from '../../src/domain/task.js';
import { canMove, planDrop, slotAt } from '../../web/src/lib/moves.js';

function domainAllows(from: TaskStatus, to: TaskStatus): boolean {
  try {
    transitionTask(from, { type: 'move', to });
    return true;
  } catch {
    return false;
  }
}

describe('the board’s move rules', () => {
  it('allow exactly the moves the domain’s state machine allows', () => {
    for (const from of TASK_STATUSES) {
      for (const to of TASK_STATUSES) {
        assert.equal(canMove(from, to), domainAllows(from, to), `${from} → ${to}`);
      }
    }
  });

  it('never let a card be dropped into In Progress from another column', () => {
    for (const from of TASK_STATUSES.filter((s) => s !== 'in_progress')) {
      const plan = planDrop('T-1', from, 0, 'in_progress', 0);
      assert.equal(plan.kind, 'refused');
      assert.match(plan.kind === 'refused' ? plan.message : '', /only while an agent runs it/);
    }
  });

  it('refuse with both columns named', () => {
    assert.deepEqual(planDrop('T-9', 'done', 2, 'blocked', 0), {
      kind: 'refused',
      message: 'T-9 cannot move from Done to Blocked',
    });
  });

  it('count slots below the card as if it had left its own column', () => {
    // Card at 2; slot 4 is after the card at 3, which becomes index 3 once the card moves.
    assert.deepEqual(planDrop('T-1', 'todo', 2, 'todo', 4), {
      kind: 'move',
      status: 'todo',
      index: 3,
    });
    // Slots just above and just below the card leave it where it is.
    assert.deepEqual(planDrop('T-1', 'todo', 2, 'todo', 2), { kind: 'stay' });
    assert.deepEqual(planDrop('T-1', 'todo', 2, 'todo', 3), { kind: 'stay' });
    assert.deepEqual(planDrop('T-1', 'todo', 2, 'todo', 0), {
      kind: 'move',
      status: 'todo',
      index: 0,
    });
    // Not shown in its column (filtered out): the slot is taken as it is.
    assert.deepEqual(planDrop('T-1', 'todo', -1, 'todo', 5), {
      kind: 'move',
      status: 'todo',
      index: 5,
    });
    // Into another column, the slot is the index.
    assert.deepEqual(planDrop('T-1', 'todo', 2, 'backlog', 7), {
      kind: 'move',
      status: 'backlog',
      index: 7,
    });
  });

  it('find the slot under the pointer, clamped to the column', () => {
    assert.equal(slotAt(0, 100, 5), 0);
    assert.equal(slotAt(149, 100, 5), 1);
    assert.equal(slotAt(151, 100, 5), 2);
    assert.equal(slotAt(-300, 100, 5), 0);
    assert.equal(slotAt(10_000, 100, 5), 5);
    assert.equal(slotAt(50, 100, 0), 0);
  });
});
