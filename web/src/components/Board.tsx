import {
  type KeyboardEvent,
  type PointerEvent as ReactPointerEvent,
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  useSyncExternalStore,
} from 'react';
import { errorText } from '../api';
import { BoardData, type Column, canMove } from '../board-data';
import { useFeedRefresh } from '../feed';
import { navigate } from '../router';
import { STATUS_LABEL, type Task, type TaskStatus } from '../types';
import { CardView } from './CardView';
import { type VirtualHandle, VirtualList } from './VirtualList';

/** Height of one card slot (card + gap); cards have a fixed height so columns can be virtualized. */
export const SLOT = 132;

interface Target {
  status: TaskStatus;
  /** Insertion index in the column as shown (the moved card included). */
  index: number;
}

interface Drag {
  task: Task;
  from: TaskStatus;
  fromIndex: number;
  target: Target | null;
  via: 'pointer' | 'keyboard';
  x: number;
  y: number;
}

let shared: BoardData | null = null;
/** One board model per page: coming back to the board keeps its scroll and pages. */
function boardData(): BoardData {
  shared ??= new BoardData();
  return shared;
}

export function BoardPage({ agents, onError }: { agents: string[]; onError: (m: string) => void }) {
  const data = boardData();
  useSyncExternalStore(
    (l) => data.subscribe(l),
    () => data.version,
  );
  useEffect(() => {
    void data.refresh();
    const t = setInterval(() => void data.refreshActiveCards(), 5000);
    return () => clearInterval(t);
  }, [data]);
  const refresh = useCallback(() => void data.refresh(), [data]);
  useFeedRefresh(refresh);

  const [drag, setDrag] = useState<Drag | null>(null);
  const [announce, setAnnounce] = useState('');
  const dragRef = useRef<Drag | null>(null);
  dragRef.current = drag;
  const justDragged = useRef(false);
  const lists = useRef(new Map<TaskStatus, VirtualHandle | null>());
  const focusCardRef = useRef<(status: TaskStatus, index: number) => void>(() => {});

  const drop = useCallback(
    (d: Drag) => {
      setDrag(null);
      const t = d.target;
      if (!t) return;
      const sameColumn = t.status === d.from;
      const index = sameColumn && d.fromIndex >= 0 && t.index > d.fromIndex ? t.index - 1 : t.index;
      if (sameColumn && index === d.fromIndex) return;
      if (!canMove(d.from, t.status)) {
        onError(
          `${d.task.id} cannot move from ${STATUS_LABEL[d.from]} to ${STATUS_LABEL[t.status]}` +
            (t.status === 'in_progress'
              ? ': a card is In Progress only while an agent runs it'
              : ''),
        );
        return;
      }
      setAnnounce(`${d.task.id} moved to ${STATUS_LABEL[t.status]}, position ${index + 1}`);
      data
        .move(d.task, t.status, index)
        .then(() => {
          // The keyboard user keeps the card they moved in focus, at its new place.
          if (d.via !== 'keyboard') return;
          const at = data.findIndex(t.status, d.task.id);
          if (at >= 0) focusCardRef.current(t.status, at);
        })
        .catch((e: unknown) => onError(errorText(e)));
    },
    [data, onError],
  );

  const targetAt = useCallback(
    (x: number, y: number): Target | null => {
      for (const [status, h] of lists.current) {
        const el = h?.element;
        if (!el) continue;
        const r = el.getBoundingClientRect();
        if (x < r.left || x > r.right || y < r.top - 60 || y > r.bottom + 20) continue;
        const total = data.columns.get(status)?.total ?? 0;
        const index = Math.max(0, Math.min(total, Math.round((y - r.top + el.scrollTop) / SLOT)));
        return { status, index };
      }
      return null;
    },
    [data],
  );

  // Pointer drag (mouse and pen; touch scrolls, and moves cards from the task page).
  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (e.pointerType === 'touch' || e.button !== 0) return;
    const el = (e.target as HTMLElement).closest<HTMLElement>('.card');
    if (!el) return;
    const id = el.dataset.taskId ?? '';
    const status = el.dataset.status as TaskStatus;
    const index = data.findIndex(status, id);
    const task = data.columns.get(status)?.items[index];
    if (!task) return;
    const start = { x: e.clientX, y: e.clientY };
    let started = false;
    const move = (ev: PointerEvent) => {
      if (!started && Math.hypot(ev.clientX - start.x, ev.clientY - start.y) < 6) return;
      started = true;
      ev.preventDefault();
      setDrag({
        task,
        from: status,
        fromIndex: index,
        via: 'pointer',
        x: ev.clientX,
        y: ev.clientY,
        target: targetAt(ev.clientX, ev.clientY),
      });
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', up);
      if (!started) return;
      justDragged.current = true;
      setTimeout(() => {
        justDragged.current = false;
      }, 0);
      const d = dragRef.current;
      if (d) drop(d);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', up);
  };

  const onClick = (e: React.MouseEvent<HTMLDivElement>) => {
    if (justDragged.current) return;
    const el = (e.target as HTMLElement).closest<HTMLElement>('.card');
    if (el && !(e.target as HTMLElement).closest('a')) navigate(`/tasks/${el.dataset.taskId}`);
  };

  const statuses = data.statuses;
  const focusCard = (status: TaskStatus, index: number) => {
    const h = lists.current.get(status);
    h?.scrollToIndex(index);
    requestAnimationFrame(() => {
      h?.element
        ?.querySelector<HTMLElement>(`[data-vrow="${index}"] .card`)
        ?.focus({ preventScroll: true });
    });
  };

  focusCardRef.current = focusCard;

  // Keyboard: Space picks a card up, arrows move it, Space/Enter drop it, Escape cancels.
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const el = (e.target as HTMLElement).closest<HTMLElement>('.card');
    if (!el || e.target !== el) return;
    const id = el.dataset.taskId ?? '';
    const status = el.dataset.status as TaskStatus;
    const d = dragRef.current;
    if (d?.via === 'keyboard' && d.task.id === id) {
      const t = d.target ?? { status: d.from, index: d.fromIndex };
      let next: Target | null = null;
      const total = (s: TaskStatus) => data.columns.get(s)?.total ?? 0;
      if (e.key === 'ArrowUp') next = { ...t, index: Math.max(0, t.index - 1) };
      else if (e.key === 'ArrowDown')
        next = { ...t, index: Math.min(total(t.status), t.index + 1) };
      else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        const at = statuses.indexOf(t.status) + (e.key === 'ArrowLeft' ? -1 : 1);
        const s = statuses[Math.max(0, Math.min(statuses.length - 1, at))] ?? t.status;
        next = { status: s, index: Math.min(t.index, total(s)) };
      } else if (e.key === ' ' || e.key === 'Enter') {
        e.preventDefault();
        drop(d);
        return;
      } else if (e.key === 'Escape') {
        e.preventDefault();
        setDrag(null);
        setAnnounce(`${id}: move cancelled`);
        return;
      }
      if (next) {
        e.preventDefault();
        setDrag({ ...d, target: next });
        lists.current.get(next.status)?.scrollToIndex(next.index);
        setAnnounce(`${STATUS_LABEL[next.status]}, position ${next.index + 1}`);
      }
      return;
    }
    const index = data.findIndex(status, id);
    if (e.key === ' ') {
      const task = data.columns.get(status)?.items[index];
      if (!task) return;
      e.preventDefault();
      setDrag({
        task,
        from: status,
        fromIndex: index,
        via: 'keyboard',
        x: 0,
        y: 0,
        target: { status, index },
      });
      setAnnounce(`Picked up ${id}. Arrow keys move it, Space or Enter drops it, Escape cancels.`);
    } else if (e.key === 'Enter') {
      navigate(`/tasks/${id}`);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const total = data.columns.get(status)?.total ?? 0;
      const to = Math.max(0, Math.min(total - 1, index + (e.key === 'ArrowDown' ? 1 : -1)));
      focusCard(status, to);
    } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      const s = statuses[statuses.indexOf(status) + (e.key === 'ArrowLeft' ? -1 : 1)];
      if (s && (data.columns.get(s)?.total ?? 0) > 0) focusCard(s, 0);
    }
  };

  const anyCards = [...data.columns.values()].some((c) => c.total > 0);
  const filtered = Boolean(data.filter.q || data.filter.agent || data.filter.label);

  return (
    <div className="board-page">
      <FilterBar data={data} agents={agents} />
      {data.error && !data.loaded ? (
        <div className="state-box error" role="alert">
          <strong>The board could not load.</strong> {data.error}
          <button type="button" onClick={() => void data.refresh()}>
            Try again
          </button>
        </div>
      ) : null}
      {data.loaded && !anyCards ? (
        <div className="state-box" data-testid="board-empty">
          {filtered ? (
            <>
              No cards match these filters.{' '}
              <button type="button" onClick={() => data.setFilter({ q: '', agent: '', label: '' })}>
                Clear filters
              </button>
            </>
          ) : (
            <>
              The board is empty. Press <strong>New task</strong> (or run{' '}
              <code>agentboard task add "…" --agent NAME</code>); drag it to Todo and an agent picks
              it up.
            </>
          )}
        </div>
      ) : null}
      {/* biome-ignore lint/a11y/noStaticElementInteractions: events are delegated from the cards */}
      <div
        className={`board${drag ? ' is-dragging' : ''}`}
        onPointerDown={onPointerDown}
        onClick={onClick}
        onKeyDown={onKeyDown}
        data-testid="board"
      >
        {statuses.map((s) => (
          <ColumnView
            key={s}
            col={data.columns.get(s)}
            status={s}
            data={data}
            drag={drag}
            handle={(h) => lists.current.set(s, h)}
          />
        ))}
      </div>
      {drag?.via === 'pointer' ? (
        <div className="drag-ghost" style={{ left: drag.x + 8, top: drag.y + 8 }}>
          {drag.task.id} {drag.task.title}
        </div>
      ) : null}
      <div className="sr-only" aria-live="assertive">
        {announce}
      </div>
    </div>
  );
}

function ColumnView({
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

function FilterBar({ data, agents }: { data: BoardData; agents: string[] }) {
  const [q, setQ] = useState(data.filter.q);
  const [label, setLabel] = useState(data.filter.label);
  // "Clear filters" and the like change the filter from outside the inputs.
  useEffect(() => setQ(data.filter.q), [data.filter.q]);
  useEffect(() => setLabel(data.filter.label), [data.filter.label]);
  useEffect(() => {
    if (q === data.filter.q) return;
    const t = setTimeout(() => data.setFilter({ q: q.trim() }), 250);
    return () => clearTimeout(t);
  }, [q, data]);
  useEffect(() => {
    if (label === data.filter.label) return;
    const t = setTimeout(() => data.setFilter({ label: label.trim() }), 250);
    return () => clearTimeout(t);
  }, [label, data]);
  return (
    <div className="filters">
      <input
        type="search"
        placeholder="Search titles and bodies"
        aria-label="Search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      <select
        aria-label="Agent"
        value={data.filter.agent}
        onChange={(e) => data.setFilter({ agent: e.target.value })}
      >
        <option value="">All agents</option>
        {agents.map((a) => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
      </select>
      <input
        type="text"
        placeholder="Label"
        aria-label="Label"
        value={label}
        onChange={(e) => setLabel(e.target.value)}
        className="label-filter"
      />
      <label className="check">
        <input
          type="checkbox"
          checked={data.filter.showCancelled}
          onChange={(e) => data.setFilter({ showCancelled: e.target.checked })}
        />{' '}
        Cancelled
      </label>
    </div>
  );
}
