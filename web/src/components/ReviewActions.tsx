import { useState } from 'react';
import { ApiError, api, errorText } from '../api';
import { navigate } from '../router';
import type { PullRequestResult, PushResult, ReviewResult, TaskDetail } from '../types';
import { ConfirmDialog } from './ConfirmDialog';

interface Props {
  task: TaskDetail;
  drafts: number;
  /** Reloads the task, its diff and its review after an action. */
  reload: () => void;
}

type Outcome =
  | { kind: 'ok'; text: string; url?: string }
  | { kind: 'error'; text: string }
  | { kind: 'conflict'; text: string; files: string[] };

type Confirm = 'discard' | 'delete' | null;

/** The review's verdict, and what to do with the branch: merge, push, pull request, discard, delete. */
export function ReviewActions({ task, drafts, reload }: Props) {
  const [body, setBody] = useState('');
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [confirm, setConfirm] = useState<Confirm>(null);

  const run = async (f: () => Promise<Outcome>) => {
    setBusy(true);
    try {
      setOutcome(await f());
    } catch (e) {
      const files = e instanceof ApiError ? e.details.files : undefined;
      if (e instanceof ApiError && e.code === 'merge_conflict' && Array.isArray(files)) {
        setOutcome({ kind: 'conflict', text: e.message, files: files.map(String) });
      } else {
        setOutcome({ kind: 'error', text: errorText(e) });
      }
    } finally {
      setBusy(false);
      reload();
    }
  };

  const review = (verdict: 'request_changes' | 'approve') =>
    run(async () => {
      const r = await api<ReviewResult>(`/tasks/${task.id}/review`, {
        method: 'POST',
        json: { verdict, body: body.trim() },
      });
      setBody('');
      return {
        kind: 'ok',
        text:
          verdict === 'approve'
            ? `Approved: ${task.id} is ${r.task.status.replace('_', ' ')}.`
            : `Changes requested${r.run ? `: run ${r.run.id} queued with your review as its prompt` : ''}.`,
      };
    });

  const merge = (squash: boolean) =>
    run(async () => {
      const r = await api<{ base: string; commit: string; outcome: string }>(
        `/tasks/${task.id}/merge`,
        { method: 'POST', json: { squash } },
      );
      return {
        kind: 'ok',
        text:
          r.outcome === 'up_to_date'
            ? `${r.base} already has this branch.`
            : `${squash ? 'Squashed and merged' : 'Merged'} into ${r.base} (${r.commit.slice(0, 8)}).`,
      };
    });

  return (
    <section className="rv-actions" aria-label="Review actions" data-testid="review-actions">
      <label className="rv-overall">
        Overall comment{' '}
        <span className="hint">
          sent with the review{drafts > 0 ? ` and its ${drafts} line comments` : ''}
        </span>
        <textarea value={body} onChange={(e) => setBody(e.target.value)} rows={3} />
      </label>
      <div className="actions">
        <button
          type="button"
          className="primary"
          disabled={busy || (drafts === 0 && !body.trim())}
          onClick={() => void review('request_changes')}
          title="Resumes the agent's session with the review as its prompt"
        >
          Request changes
        </button>
        <button type="button" disabled={busy} onClick={() => void review('approve')}>
          Approve
        </button>
        <span className="sep" aria-hidden="true" />
        <button type="button" disabled={busy} onClick={() => void merge(false)}>
          Merge
        </button>
        <button type="button" disabled={busy} onClick={() => void merge(true)}>
          Squash &amp; merge
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              const r = await api<PushResult>(`/tasks/${task.id}/push`, { method: 'POST' });
              return {
                kind: 'ok',
                text: `Pushed ${r.branch} to ${r.remote} (${r.commit.slice(0, 8)}).`,
              };
            })
          }
        >
          Push branch
        </button>
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            void run(async () => {
              const r = await api<PullRequestResult>(`/tasks/${task.id}/pull-request`, {
                method: 'POST',
              });
              return { kind: 'ok', text: 'Pull request opened: ', url: r.url };
            })
          }
        >
          Open pull request
        </button>
        <span className="sep" aria-hidden="true" />
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() => setConfirm('discard')}
        >
          Discard…
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          onClick={() => setConfirm('delete')}
        >
          Delete task…
        </button>
      </div>
      {outcome ? <OutcomeView o={outcome} /> : null}
      {confirm === 'discard' ? (
        <ConfirmDialog
          title={`Discard ${task.id}'s work?`}
          confirm="Discard"
          onClose={() => setConfirm(null)}
          onConfirm={() =>
            void run(async () => {
              const r = await api<{ branch: string; commit: string | null }>(
                `/tasks/${task.id}/discard`,
                { method: 'POST' },
              );
              return {
                kind: 'ok',
                text: `Discarded: the worktree and ${r.branch} were deleted.${
                  r.commit
                    ? ` \`git branch ${r.branch} ${r.commit.slice(0, 12)}\` brings the branch back.`
                    : ''
                }`,
              };
            })
          }
        >
          This deletes the task's worktree and its branch. Commits not merged or pushed are lost.
        </ConfirmDialog>
      ) : null}
      {confirm === 'delete' ? (
        <ConfirmDialog
          title={`Delete ${task.id}?`}
          confirm="Delete task"
          onClose={() => setConfirm(null)}
          onConfirm={() =>
            void api(`/tasks/${task.id}`, { method: 'DELETE' }).then(
              () => navigate('/'),
              (e: unknown) => setOutcome({ kind: 'error', text: errorText(e) }),
            )
          }
        >
          This deletes the task “{task.title}” with its comments, runs and reviews.
        </ConfirmDialog>
      ) : null}
    </section>
  );
}

function OutcomeView({ o }: { o: Outcome }) {
  if (o.kind === 'conflict') {
    return (
      <div className="state-box error" role="alert" data-testid="merge-conflict">
        <strong>Not merged: conflicts. Nothing was changed.</strong>
        <ul>
          {o.files.map((f) => (
            <li key={f}>
              <code>{f}</code>
            </li>
          ))}
        </ul>
        <p className="muted">{o.text}</p>
      </div>
    );
  }
  return (
    <div
      className={`state-box${o.kind === 'error' ? ' error' : ''}`}
      role={o.kind === 'error' ? 'alert' : 'status'}
      data-testid="review-outcome"
    >
      {o.text}
      {o.kind === 'ok' && o.url ? (
        <a href={o.url} target="_blank" rel="noreferrer noopener">
          {o.url}
        </a>
      ) : null}
    </div>
  );
}
