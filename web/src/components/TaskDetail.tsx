import { useCallback, useState } from 'react';
import { api, errorText } from '../api';
import { useFeedRefresh } from '../feed';
import { usd } from '../format';
import { useAsync } from '../hooks';
import { linkClick, navigate } from '../router';
import {
  ACTIVE_RUN_STATES,
  type BoardEvent,
  type TaskDetail as Detail,
  STATUS_LABEL,
} from '../types';
import { ApprovalPanel } from './ApprovalPanel';
import { Comments } from './Comments';
import { Markdown } from './Markdown';
import { ReviewTab } from './ReviewTab';
import { RunHistory } from './RunHistory';
import { RunView } from './RunView';
import { MoveSelect, ResumeButton } from './TaskActions';
import { TaskDialog } from './TaskDialog';

interface Props {
  id: string;
  runParam: string | null;
  /** `review`: the Review tab; otherwise the task's overview. */
  tab: string | null;
  agents: string[];
  onError: (m: string) => void;
}

/**
 * A task: pending approvals at the top, then two tabs: its body, comments,
 * every run and the selected run's live transcript; and the review of its branch.
 */
export function TaskDetailPage({ id, runParam, tab, agents, onError }: Props) {
  const task = useAsync(() => api<Detail>(`/tasks/${id}`), [id]);
  const reload = task.reload;
  const mine = useCallback((e: BoardEvent) => e.taskId === id, [id]);
  useFeedRefresh(reload, mine);
  const [editing, setEditing] = useState(false);

  if (task.error && !task.data) {
    return (
      <div className="page">
        <div className="state-box error" role="alert">
          {task.error}{' '}
          <a href="/" onClick={linkClick}>
            Back to the board
          </a>
        </div>
      </div>
    );
  }
  const t = task.data;
  if (!t) return <div className="page state-box">Loading {id}…</div>;
  const runs = [...t.runs].reverse();
  const active = runs.find((r) => ACTIVE_RUN_STATES.includes(r.state)) ?? null;
  const selected = runs.find((r) => r.id === runParam) ?? active ?? runs[0] ?? null;

  const view = tab === 'review' ? 'review' : 'task';
  const act = async (what: string, f: () => Promise<unknown>) => {
    try {
      await f();
      reload();
    } catch (e) {
      onError(`${what}: ${errorText(e)}`);
    }
  };

  return (
    <div className="page detail" data-testid="task-detail">
      <div className="detail-head">
        <a href="/" onClick={linkClick} className="back">
          ← Board
        </a>
        <h1>
          <span className="muted">{t.id}</span> {t.title}
        </h1>
        <div className="detail-tags">
          <span className={`status-pill st-${t.status}`} data-testid="task-status">
            {STATUS_LABEL[t.status]}
          </span>
          <span className={`prio prio-${t.priority}`}>{t.priority}</span>
          {t.agent ? (
            <span className="chip">@{t.agent}</span>
          ) : (
            <span className="chip">no agent</span>
          )}
          {t.labels.map((l) => (
            <span key={l} className="chip">
              {l}
            </span>
          ))}
          <span className="muted">cost {usd(t.usage.costUsd)}</span>
          {t.pullRequestUrl ? (
            <a
              href={t.pullRequestUrl}
              target="_blank"
              rel="noreferrer noopener"
              className="chip"
              data-testid="task-pr"
            >
              Pull request ↗
            </a>
          ) : null}
        </div>
        {t.statusReason ? (
          <p
            className={`reason${t.status === 'blocked' ? ' error' : ''}`}
            data-testid="status-reason"
          >
            {t.statusReason}
          </p>
        ) : null}
        <div className="actions">
          {active ? (
            <button
              type="button"
              className="danger"
              onClick={() => act('Stop', () => api(`/runs/${active.id}/stop`, { method: 'POST' }))}
            >
              Stop
            </button>
          ) : (
            <button
              type="button"
              className="primary"
              onClick={() =>
                act('Retry', () => api(`/tasks/${t.id}/runs`, { method: 'POST', json: {} }))
              }
            >
              {runs.length === 0 ? 'Run' : runs[0]?.state === 'succeeded' ? 'Run again' : 'Retry'}
            </button>
          )}
          {!active && runs.some((r) => r.sessionId) ? <ResumeButton task={t} act={act} /> : null}
          <button type="button" onClick={() => setEditing(true)}>
            Edit
          </button>
          <MoveSelect task={t} act={act} />
        </div>
      </div>

      <ApprovalPanel task={t} act={act} />

      <div className="tabs detail-tabs" role="tablist" aria-label="Task views">
        {(['task', 'review'] as const).map((k) => (
          <button
            key={k}
            type="button"
            role="tab"
            aria-selected={view === k}
            className={view === k ? 'on' : ''}
            onClick={() =>
              navigate(k === 'review' ? `/tasks/${t.id}?tab=review` : `/tasks/${t.id}`, true)
            }
          >
            {k === 'review' ? 'Review' : 'Task'}
          </button>
        ))}
      </div>

      {view === 'review' ? (
        <ReviewTab task={t} reloadTask={reload} />
      ) : (
        <>
          <div className="detail-grid">
            <section className="detail-main">
              <h2>Description</h2>
              {t.body.trim() ? (
                <Markdown text={t.body} />
              ) : (
                <p className="muted">No description.</p>
              )}
              <Relations t={t} />
              <Comments task={t} agents={agents} reload={reload} onError={onError} />
            </section>
            <section className="detail-runs">
              <h2>Runs</h2>
              <RunHistory runs={runs} selected={selected?.id ?? null} taskId={t.id} />
            </section>
          </div>

          {selected ? (
            <RunView run={selected} />
          ) : (
            <div className="state-box">
              No runs yet. Move the card to Todo (or press Run) and its agent picks it up.
            </div>
          )}
        </>
      )}
      {editing ? (
        <TaskDialog
          task={t}
          agents={agents}
          onClose={() => setEditing(false)}
          onSaved={() => reload()}
        />
      ) : null}
    </div>
  );
}

function Relations({ t }: { t: Detail }) {
  if (!t.parent && t.dependsOn.length === 0 && t.children.length === 0) return null;
  const link = (x: string) => (
    <a key={x} href={`/tasks/${x}`} onClick={linkClick}>
      {x}
    </a>
  );
  return (
    <div className="relations">
      {t.parent ? <div>Parent: {link(t.parent)}</div> : null}
      {t.dependsOn.length > 0 ? (
        <div>
          Depends on: {t.dependsOn.map((d) => [link(d), ' '])}
          {t.waitingOn.length > 0 ? (
            <span className="muted">(waiting on {t.waitingOn.join(', ')})</span>
          ) : null}
        </div>
      ) : null}
      {t.children.length > 0 ? (
        <div>
          Subtasks:{' '}
          {t.children.map((c) => (
            <span key={c.id}>
              {link(c.id)} <span className="muted">{STATUS_LABEL[c.status]}</span>{' '}
            </span>
          ))}
        </div>
      ) : null}
    </div>
  );
}
