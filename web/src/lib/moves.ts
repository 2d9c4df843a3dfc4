/**
 * The board's move rules, apart from the drag that uses them: where a card
 * may go (the contract's USER_MOVES; the server has the last word), and what
 * a drop means. Pure: unit-tested under Node.
 */
import { type TaskStatus, USER_MOVES } from '../../../src/contract/vocabulary.js';
import { STATUS_LABEL } from '../types.js';

export function canMove(from: TaskStatus, to: TaskStatus): boolean {
  return from === to || USER_MOVES[from].includes(to);
}

export type DropPlan =
  | { kind: 'stay' }
  | { kind: 'refused'; message: string }
  | { kind: 'move'; status: TaskStatus; index: number };

/**
 * A card `id` dragged from `from` (at `fromIndex`, -1 when not shown there)
 * and dropped at `to`'s insertion slot `slot` (counted with the card still in
 * place): where it goes, or why it may not.
 */
export function planDrop(
  id: string,
  from: TaskStatus,
  fromIndex: number,
  to: TaskStatus,
  slot: number,
): DropPlan {
  const same = to === from;
  // In its own column, the slots below the card shift up once it leaves.
  const index = same && fromIndex >= 0 && slot > fromIndex ? slot - 1 : slot;
  if (same && index === fromIndex) return { kind: 'stay' };
  if (!canMove(from, to)) {
    return {
      kind: 'refused',
      message:
        `${id} cannot move from ${STATUS_LABEL[from]} to ${STATUS_LABEL[to]}` +
        (to === 'in_progress' ? ': a card is In Progress only while an agent runs it' : ''),
    };
  }
  return { kind: 'move', status: to, index };
}

/** The insertion slot under a pointer at `offset` px into a column's content of slots `slot` px tall. */
export function slotAt(offset: number, slot: number, total: number): number {
  return Math.max(0, Math.min(total, Math.round(offset / slot)));
}
