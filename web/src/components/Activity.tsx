import { useRecentEvents } from '../feed';
import { when } from '../format';
import { describeEvent } from '../lib/event-text';
import { linkClick } from '../router';

/** The latest board events (100 at load, then live), newest first, linked to task and run. */
export function ActivityFeed({ onClose }: { onClose?: () => void }) {
  const events = useRecentEvents();
  const shown = events.slice(-200).reverse();
  return (
    <aside className="activity" aria-label="Activity" data-testid="activity">
      <div className="activity-head">
        <h2>Activity</h2>
        {onClose ? (
          <button type="button" className="icon" aria-label="Close activity" onClick={onClose}>
            ✕
          </button>
        ) : null}
      </div>
      {shown.length === 0 ? (
        <p className="muted pad">
          No board events yet. Cards created and moved, runs starting and finishing, comments and
          bus messages appear here as they happen.
        </p>
      ) : (
        <ol className="activity-list">
          {shown.map((e) => (
            <li key={e.id} className={`ev ev-${e.type.split('.')[0]}`}>
              <span className="ev-time muted">{when(e.createdAt)}</span>
              <span className="ev-text">
                {e.taskId ? (
                  <a
                    href={`/tasks/${e.taskId}${e.runId ? `?run=${e.runId}` : ''}`}
                    onClick={linkClick}
                  >
                    {e.taskId}
                  </a>
                ) : (
                  <span className="muted">board</span>
                )}{' '}
                {describeEvent(e.type, e.data)}
              </span>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
