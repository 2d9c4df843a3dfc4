import { type FormEvent, useCallback, useState } from 'react';
import { api, errorText } from '../api';
import { USER_MOVES } from '../board-data';
import { useFeedRefresh } from '../feed';
import { ago, duration, usd, when } from '../format';
import { useAsync, useNow } from '../hooks';
import { linkClick, navigate } from '../router';
import {
  ACTIVE_RUN_STATES,
  type BoardEvent,
  type TaskDetail as Detail,
  type Run,
  STATUS_LABEL,
  type Task,
  type TaskStatus,
} from '../types';
import { DiffView } from './DiffView';
import { Markdown } from './Markdown';
import { RawLog } from './RawLog';
import { TaskDialog } from './TaskDialog';
import { Transcript } from './Transcript';

interface Props {
  id: string;
  runParam: string | null;
  agents: string[];
  onError: (m: string) => void;
}

/** A task: its body, comments, every run, and the selected run's live transcript. */
export function TaskDetailPage({ id, runParam, agents, onError }: Props) {
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

      <div className="detail-grid">
        <section className="detail-main">
          <h2>Description</h2>
          {t.body.trim() ? <Markdown text={t.body} /> : <p className="muted">No description.</p>}
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

type Act = (what: string, f: () => Promise<unknown>) => Promise<void>;

function ResumeButton({ task, act }: { task: Task; act: Act }) {
  const [open, setOpen] = useState(false);
  const [prompt, setPrompt] = useState('');
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Resume…
      </button>
    );
  }
  return (
    <form
      className="resume"
      onSubmit={(e) => {
        e.preventDefault();
        void act('Resume', () =>
          api(`/tasks/${task.id}/runs`, { method: 'POST', json: { prompt: prompt.trim() } }),
        ).then(() => setOpen(false));
      }}
    >
      <input
        aria-label="Resume prompt"
        placeholder="What should the agent do next?"
        value={prompt}
        onChange={(e) => setPrompt(e.target.value)}
        required
      />
      <button type="submit" className="primary" disabled={!prompt.trim()}>
        Resume
      </button>
    </form>
  );
}

function MoveSelect({ task, act }: { task: Task; act: Act }) {
  const moves = USER_MOVES[task.status];
  return (
    <select
      aria-label="Move to"
      value=""
      onChange={(e) => {
        const to = e.target.value as TaskStatus;
        if (!to) return;
        void act('Move', () =>
          to === 'cancelled'
            ? api(`/tasks/${task.id}/cancel`, { method: 'POST' })
            : api(`/tasks/${task.id}/move`, { method: 'POST', json: { status: to } }),
        );
      }}
    >
      <option value="">Move to…</option>
      {moves.map((s) => (
        <option key={s} value={s}>
          {STATUS_LABEL[s]}
        </option>
      ))}
    </select>
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

function Comments({
  task,
  agents,
  reload,
  onError,
}: {
  task: Detail;
  agents: string[];
  reload: () => void;
  onError: (m: string) => void;
}) {
  const [body, setBody] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const text = body.trim();
    if (!text) return;
    try {
      // The server turns an @agent mention into a run of that agent, prompted by the comment.
      const c = await api<{ mentionRun: { agent: string } | null }>(`/tasks/${task.id}/comments`, {
        method: 'POST',
        json: { body: text },
      });
      setBody('');
      setNote(c.mentionRun ? `Sent to @${c.mentionRun.agent}: a run is queued.` : null);
      reload();
    } catch (err) {
      onError(`Comment: ${errorText(err)}`);
    }
  };
  return (
    <div className="comments">
      <h2>Comments</h2>
      {task.comments.length === 0 ? <p className="muted">No comments yet.</p> : null}
      {task.comments.map((c) => (
        <div key={c.id} className="comment">
          <div className="comment-head">
            <strong>{c.author}</strong> <span className="muted">{when(c.createdAt)}</span>
          </div>
          <Markdown text={c.body} />
        </div>
      ))}
      <form onSubmit={submit} className="comment-form">
        <textarea
          aria-label="Comment"
          placeholder={
            agents.length > 0
              ? `Comment; @${agents[0]} hands it to that agent`
              : 'Comment (markdown)'
          }
          value={body}
          rows={3}
          onChange={(e) => setBody(e.target.value)}
        />
        <div className="row">
          {note ? <span className="muted">{note}</span> : <span />}
          <button type="submit" disabled={!body.trim()}>
            Comment
          </button>
        </div>
      </form>
    </div>
  );
}

function RunHistory({
  runs,
  selected,
  taskId,
}: {
  runs: Run[];
  selected: string | null;
  taskId: string;
}) {
  const now = useNow(
    1000,
    runs.some((r) => ACTIVE_RUN_STATES.includes(r.state)),
  );
  if (runs.length === 0) return <p className="muted">No runs yet.</p>;
  return (
    <ol className="run-history" data-testid="run-history">
      {runs.map((r) => {
        const live = ACTIVE_RUN_STATES.includes(r.state);
        const dur = r.durationMs ?? (live && r.startedAt ? now - Date.parse(r.startedAt) : null);
        return (
          <li key={r.id} className={r.id === selected ? 'on' : ''}>
            <button
              type="button"
              onClick={() => navigate(`/tasks/${taskId}?run=${r.id}`, true)}
              data-run-id={r.id}
            >
              <span className={`run-badge rs-${r.state}`}>
                {live && r.state !== 'queued' ? <span className="spinner small" /> : null}
                {r.state.replace('_', ' ')}
              </span>
              <span>
                attempt {r.attempt}/{r.maxAttempts}
                {r.iteration > 1 ? ` · iteration ${r.iteration}` : ''}
              </span>
              <span className="muted">{duration(dur)}</span>
              <span className="muted">
                {r.exitCode !== null ? `exit ${r.exitCode}` : (r.exitSignal ?? '')}
              </span>
              <span className="muted">{usd(r.costUsd)}</span>
              {r.errorSummary ? (
                <span className="run-error" data-testid="run-error">
                  {r.errorSummary.split('\n')[0]}
                </span>
              ) : null}
            </button>
          </li>
        );
      })}
    </ol>
  );
}

type Tab = 'transcript' | 'stdout' | 'stderr' | 'diff';
const TAB_LABEL: Record<Tab, string> = {
  transcript: 'Transcript',
  stdout: 'Raw stdout',
  stderr: 'Raw stderr',
  diff: 'Diff',
};

function RunView({ run }: { run: Run }) {
  const [tab, setTab] = useState<Tab>('transcript');
  // A run in a git worktree has a diff once its work is committed (when it ends).
  const tabs: Tab[] = run.commits?.after
    ? ['transcript', 'stdout', 'stderr', 'diff']
    : ['transcript', 'stdout', 'stderr'];
  const active = ACTIVE_RUN_STATES.includes(run.state);
  return (
    <section className="run-view" data-testid="run-view" data-run-id={run.id}>
      <div className="run-view-head">
        <h2>
          Run <code>{run.id}</code>{' '}
          <span className={`run-badge rs-${run.state}`}>{run.state.replace('_', ' ')}</span>
        </h2>
        <span className="muted">
          {run.agent} · started {ago(run.startedAt)}
          {run.notice ? ` · ${run.notice}` : ''}
        </span>
      </div>
      {run.errorSummary ? (
        <pre className="error-summary" data-testid="error-summary">
          {run.errorSummary}
        </pre>
      ) : null}
      <div className="tabs" role="tablist">
        {tabs.map((k) => (
          <button
            key={k}
            type="button"
            role="tab"
            aria-selected={tab === k}
            className={tab === k ? 'on' : ''}
            onClick={() => setTab(k)}
          >
            {TAB_LABEL[k]}
          </button>
        ))}
      </div>
      <div className="run-pane">
        {tab === 'transcript' ? (
          <Transcript runId={run.id} active={active} />
        ) : tab === 'diff' ? (
          <DiffView runId={run.id} />
        ) : (
          <RawLog runId={run.id} stream={tab} />
        )}
      </div>
    </section>
  );
}
