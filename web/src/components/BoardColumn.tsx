import { useCallback, useMemo } from 'react';
import { type BoardData, type Column, canMove } from '../board-data';
import { STATUS_LABEL, type TaskStatus } from '../types';
import { CardView } from './CardView';
import type { Drag } from './useBoardDrag';
import { type VirtualHandle, VirtualList } from './VirtualList';

/** Height of one card slot (card + gap); cards have a fixed height so columns can be virtualized. */
export const SLOT = 132;

export function ColumnView({
  col,
  status,
  data,
  drag,
  handle,
}: {
  col: Column | undefined;
  status: TaskStatus;
  data: BoardData;
  drag: Drag | null;
  handle: (h: VirtualHandle | null) => void;
}) {
  const total = col?.total ?? 0;
  const onRange = useCallback(
    (first: number, last: number) => data.ensureRange(status, first, last),
    [data, status],
  );
  const refuse = drag !== null && !canMove(drag.from, status);
  const target = drag?.target?.status === status ? drag.target.index : null;
  const render = (i: number) => {
    const t = col?.items[i];
    if (!t) return <div className="card placeholder" aria-hidden="true" />;
    return (
      <CardView
        task={t}
        card={data.cards.get(t.id)}
        grabbed={drag?.via === 'keyboard' && drag.task.id === t.id}
        dragging={drag?.via === 'pointer' && drag.task.id === t.id}
      />
    );
  };
  const overlay = useMemo(
    () =>
      target === null ? null : <div className="drop-line" style={{ top: target * SLOT - 5 }} />,
    [target],
  );
  return (
    <section
      className={`column${refuse ? ' refuse' : ''}${target !== null ? ' target' : ''}`}
      data-column={status}
      aria-label={`${STATUS_LABEL[status]}: ${total} cards`}
    >
      <h2 className="column-head">
        <span>{STATUS_LABEL[status]}</span>
        <span className="count" data-testid={`count-${status}`}>
          {col?.loading && total === 0 ? '…' : total}
        </span>
      </h2>
      {col?.error ? (
        <div className="column-note error">
          {col.error}{' '}
          <button type="button" onClick={() => void data.loadPage(status, 0)}>
            Retry
          </button>
        </div>
      ) : col?.loading && total === 0 ? (
        <div className="column-note">Loading…</div>
      ) : total === 0 ? (
        <div className="column-note muted">{emptyHint(status)}</div>
      ) : null}
      <VirtualList
        className="column-list"
        count={total}
        rowHeight={SLOT}
        render={render}
        rowKey={(i) => col?.items[i]?.id ?? `slot-${i}`}
        onRange={onRange}
        handle={handle}
        overlay={overlay}
        label={`${STATUS_LABEL[status]} cards`}
      />
    </section>
  );
}

function emptyHint(s: TaskStatus): string {
  switch (s) {
    case 'backlog':
      return 'Ideas and later work.';
    case 'todo':
      return 'Drop a card here: its agent starts.';
    case 'in_progress':
      return 'Cards appear here while an agent runs them.';
    case 'review':
      return 'Finished runs wait here for you.';
    case 'done':
      return 'Nothing done yet.';
    case 'blocked':
      return 'Cards whose retries ran out land here.';
    case 'cancelled':
      return 'No cancelled cards.';
  }
}
