import { useCallback, useEffect, useSyncExternalStore } from 'react';
import { BoardData } from '../board-data';
import { useFeedRefresh } from '../feed';
import { ColumnView } from './BoardColumn';
import { FilterBar } from './BoardFilters';
import { useBoardDrag } from './useBoardDrag';

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

  const { drag, announce, lists, onPointerDown, onClick, onKeyDown } = useBoardDrag(data, onError);
  const statuses = data.statuses;

  const anyCards = [...data.columns.values()].some((c) => c.total > 0);
  const filtered = Boolean(
    data.filter.q || data.filter.agent || data.filter.label || data.filter.needsApproval,
  );

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
              <button
                type="button"
                onClick={() =>
                  data.setFilter({ q: '', agent: '', label: '', needsApproval: false })
                }
              >
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
