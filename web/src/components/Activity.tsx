import { useRecentEvents } from '../feed';
import { when } from '../format';
import { linkClick } from '../router';
import type { BoardEvent } from '../types';

/** What an event says, in a few words. */
function describe(e: BoardEvent): string {
  const d = e.data ?? {};
  const s = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : '');
  switch (e.type) {
    case 'task.created':
      return `created${s('title') ? ` “${s('title')}”` : ''}`;
    case 'task.moved':
      return `moved ${s('from') ? `${s('from').replace('_', ' ')} → ` : 'to '}${s('to').replace('_', ' ')}`;
    case 'task.updated':
      return 'edited';
    case 'task.deleted':
      return 'deleted';
    case 'task.commented':
      return `comment by ${s('author') || 'someone'}`;
    case 'run.queued':
      return `run queued${s('agent') ? ` for @${s('agent')}` : ''}`;
    case 'run.started':
      return 'run started';
    case 'run.finished':
      return `run finished: ${s('state') || 'ended'}${typeof d.exitCode === 'number' ? ` (exit ${d.exitCode})` : ''}`;
    case 'run.stop_requested':
      return `stop requested${s('reason') ? `: ${s('reason')}` : ''}`;
    case 'message.posted':
      return `message${s('author') ? ` from ${s('author')}` : ''}${s('type') ? ` (${s('type')})` : ''}`;
    default:
      return e.type.replace('.', ' ').replace('_', ' ');
  }
}

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
                {describe(e)}
              </span>
            </li>
          ))}
        </ol>
      )}
    </aside>
  );
}
