import { memo } from 'react';
import { ago, duration, liveness, usd } from '../format';
import { useNow } from '../hooks';
import { linkClick } from '../router';
import { ACTIVE_RUN_STATES, type Card, type Task } from '../types';
import { UnsupervisedBadge } from './UnsupervisedBadge';

interface Props {
  task: Task;
  card: Card | undefined;
  grabbed: boolean;
  dragging: boolean;
}

/** One card: what it is, who works on it, and what its latest run is really doing. */
export const CardView = memo(function CardView({ task, card, grabbed, dragging }: Props) {
  const run = card?.run ?? null;
  const active = run !== null && ACTIVE_RUN_STATES.includes(run.state);
  // The Todo monitor's word on a card that cannot start by itself ("waiting on T-3, which is Blocked: …").
  const stuck = task.status === 'todo' ? task.statusReason : null;
  const asks = card?.approvals.pending ?? 0;
  return (
    <article
      className={`card prio-${task.priority}${grabbed ? ' grabbed' : ''}${dragging ? ' dragging' : ''}`}
      data-task-id={task.id}
      data-status={task.status}
      aria-roledescription="draggable card"
      aria-grabbed={grabbed}
      // biome-ignore lint/a11y/noNoninteractiveTabindex: cards are picked up with the keyboard (Space)
      tabIndex={0}
    >
      <header className="card-top">
        <a href={`/tasks/${task.id}`} onClick={linkClick} className="card-id" tabIndex={-1}>
          {task.id}
        </a>
        {task.priority === 'medium' ? null : (
          <span className={`prio prio-${task.priority}`}>{task.priority}</span>
        )}
        {run ? (
          <span className="card-attempt" title={`attempt ${run.attempt} of ${run.maxAttempts}`}>
            attempt {run.attempt}/{run.maxAttempts}
          </span>
        ) : null}
      </header>
      <div className="card-title" title={task.title}>
        {task.title}
      </div>
      <div className="card-meta">
        <span className="card-agent">{task.agent ? `@${task.agent}` : 'no agent'}</span>
        {task.labels.slice(0, 3).map((l) => (
          <span key={l} className="chip">
            {l}
          </span>
        ))}
        {task.labels.length > 3 ? <span className="chip">+{task.labels.length - 3}</span> : null}
      </div>
      {asks > 0 || card?.pullRequestUrl ? (
        <div className="card-flags">
          {asks > 0 && card ? <NeedsApproval count={asks} since={card.approvals.since} /> : null}
          {card?.pullRequestUrl ? (
            <a
              className="flag flag-pr"
              href={card.pullRequestUrl}
              target="_blank"
              rel="noreferrer noopener"
              data-testid="card-pr"
              title={card.pullRequestUrl}
            >
              Pull request ↗
            </a>
          ) : null}
        </div>
      ) : null}
      {stuck || (run && (run.denials > 0 || (active && run.notice))) ? (
        <div className="card-flags">
          {stuck ? (
            <span className="flag flag-notice" title={stuck} data-testid="card-stuck">
              {stuck.split(':')[0]}
            </span>
          ) : null}
          {run && run.denials > 0 ? (
            <span className="flag flag-denied" data-testid="card-denials">
              {run.denials} tool {run.denials === 1 ? 'use' : 'uses'} denied
            </span>
          ) : null}
          {active && run?.notice ? (
            <span className="flag flag-notice" title={run.notice} data-testid="card-notice">
              {shortNotice(run.notice)}
            </span>
          ) : null}
        </div>
      ) : null}
      <div className="card-run">
        {run ? (
          active ? (
            <LiveRun run={run} />
          ) : (
            <PastRun run={run} />
          )
        ) : (
          <span className="muted">no runs yet</span>
        )}
        {card && card.costUsd > 0 ? <span className="card-cost">{usd(card.costUsd)}</span> : null}
      </div>
    </article>
  );
});

/**
 * Tool uses waiting for a person. A badge, not a column: the run is still
 * running, and a card is In Progress exactly while it has an active run.
 */
function NeedsApproval({ count, since }: { count: number; since: string | null }) {
  const now = useNow(1000);
  const waited = since ? duration(now - Date.parse(since)) : null;
  return (
    <span
      className="flag flag-approval"
      data-testid="card-approval"
      title={`${count} tool ${count === 1 ? 'use waits' : 'uses wait'} for your decision: open the task to allow or deny`}
    >
      Needs approval{count > 1 ? ` (${count})` : ''}
      {waited ? ` · ${waited}` : ''}
    </span>
  );
}

function LiveRun({ run }: { run: NonNullable<Card['run']> }) {
  const now = useNow(1000);
  if (run.state === 'queued') {
    return (
      <span className="run-state queued" title="waiting for a free agent slot or its retry time">
        ◷ queued
      </span>
    );
  }
  const started = run.startedAt ? Date.parse(run.startedAt) : null;
  const last = run.lastOutputAt ? now - Date.parse(run.lastOutputAt) : null;
  const live = run.stalled ? 'silent' : liveness(last ?? (started ? now - started : null));
  return (
    <span className="run-state running" data-run-state={run.state}>
      <span className="spinner" role="status" aria-label="running" />
      <span>{started ? duration(now - started) : 'starting'}</span>
      <UnsupervisedBadge run={run} />
      <span
        className={`live live-${live}`}
        title={last === null ? 'no output yet' : `last output ${ago(run.lastOutputAt, now)}`}
      >
        {live}
        {last !== null ? ` ${duration(last)}` : ''}
      </span>
    </span>
  );
}

/** "retrying (429) 3/10 in 5s: rate limited" → "retrying (429) 3/10": the card has one line for it. */
function shortNotice(notice: string): string {
  const cut = notice.indexOf(':');
  const head = cut > 0 ? notice.slice(0, cut) : notice;
  return head.replace(/ in \d+\w+$/, '');
}

function PastRun({ run }: { run: NonNullable<Card['run']> }) {
  const ok = run.state === 'succeeded';
  return (
    <span className={`run-state ${ok ? 'ok' : 'bad'}`} title={run.errorSummary ?? run.state}>
      {ok ? '✓' : '✕'} {run.state.replace('_', ' ')}
      {run.exitCode !== null && !ok ? ` (exit ${run.exitCode})` : ''}
      {run.endedAt ? <span className="muted"> · {ago(run.endedAt)}</span> : null}
    </span>
  );
}
