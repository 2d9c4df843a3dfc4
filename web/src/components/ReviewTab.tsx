import { useCallback, useMemo, useState } from 'react';
import { ApiError, api, errorText } from '../api';
import { useFeedRefresh } from '../feed';
import { ago } from '../format';
import { useAsync } from '../hooks';
import { type DiffFile, type DiffLine, parsePatch } from '../lib/diff-parse';
import { linkClick } from '../router';
import type { BoardEvent, Diff, ReviewComment, TaskDetail, TaskReview } from '../types';
import { ReviewActions } from './ReviewActions';
import { type DiffMode, fileAnchor, type LineRef, lineRef, ReviewFile } from './ReviewFile';

const MODE_KEY = 'agentboard.diffMode';

function savedMode(): DiffMode {
  return localStorage.getItem(MODE_KEY) === 'split' ? 'split' : 'unified';
}

interface Composing extends LineRef {
  file: string;
  quote: string;
}

/** The task's branch against its base, with line comments gathered into a review. */
export function ReviewTab({ task, reloadTask }: { task: TaskDetail; reloadTask: () => void }) {
  const diff = useAsync(() => api<Diff>(`/tasks/${task.id}/diff`), [task.id]);
  const review = useAsync(() => api<TaskReview>(`/tasks/${task.id}/review`), [task.id]);
  const [mode, setModeState] = useState<DiffMode>(savedMode);
  const [composing, setComposing] = useState<Composing | null>(null);
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const files = useMemo(() => (diff.data ? parsePatch(diff.data.patch) : []), [diff.data]);
  const reloadAll = useCallback(() => {
    diff.reload();
    review.reload();
    reloadTask();
  }, [diff.reload, review.reload, reloadTask]);
  const mine = useCallback(
    (e: BoardEvent) =>
      e.taskId === task.id && (e.type.startsWith('review.') || e.type.startsWith('workspace.')),
    [task.id],
  );
  useFeedRefresh(
    useCallback(() => {
      diff.reload();
      review.reload();
    }, [diff.reload, review.reload]),
    mine,
  );

  const setMode = (m: DiffMode) => {
    localStorage.setItem(MODE_KEY, m);
    setModeState(m);
  };

  const compose = (file: DiffFile, l: DiffLine) => {
    setComposing({ file: file.path, quote: l.text, ...lineRef(l) });
    setText('');
    setError(null);
  };

  const save = async () => {
    if (!composing || !text.trim()) return;
    try {
      await api<ReviewComment>(`/tasks/${task.id}/review/comments`, {
        method: 'POST',
        json: {
          file: composing.file,
          line: composing.line,
          side: composing.side,
          quote: composing.quote,
          body: text.trim(),
        },
      });
      setComposing(null);
      setText('');
      review.reload();
    } catch (e) {
      setError(errorText(e));
      // The branch moved under the person: show its diff as it is now, without the stale form.
      if (e instanceof ApiError && e.code === 'diff_changed') {
        setComposing(null);
        diff.reload();
      }
    }
  };

  const remove = async (c: ReviewComment) => {
    try {
      await api(`/tasks/${task.id}/review/comments/${c.id}`, { method: 'DELETE' });
      review.reload();
    } catch (e) {
      setError(errorText(e));
    }
  };

  const form = composing ? (
    <form
      className="rv-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
      onKeyDown={(e) => {
        if (e.key === 'Escape') setComposing(null);
      }}
    >
      <label>
        Comment on {composing.side === 'old' ? 'old ' : ''}line {composing.line}
        <textarea
          value={text}
          onChange={(e) => setText(e.target.value)}
          rows={3}
          required
          // biome-ignore lint/a11y/noAutofocus: the form opened on this line's press
          autoFocus
        />
      </label>
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="actions">
        <button type="submit" className="primary" disabled={!text.trim()}>
          Add comment
        </button>
        <button type="button" onClick={() => setComposing(null)}>
          Cancel
        </button>
      </div>
    </form>
  ) : null;

  const drafts = review.data?.draft ?? [];
  return (
    <div className="review-tab" data-testid="review-tab">
      {diff.error && !diff.data ? (
        <div className="state-box">{diff.error}</div>
      ) : !diff.data ? (
        <div className="state-box">Loading the diff…</div>
      ) : (
        <>
          <div className="rv-bar">
            <span className="muted">
              <code>{diff.data.branch}</code> against <code>{diff.data.base}</code> ·{' '}
              {diff.data.files.length} {diff.data.files.length === 1 ? 'file' : 'files'}
            </span>
            <fieldset className="tabs small rv-mode">
              <legend className="sr-only">Diff view</legend>
              {(['unified', 'split'] as const).map((m) => (
                <button
                  key={m}
                  type="button"
                  aria-pressed={mode === m}
                  className={mode === m ? 'on' : ''}
                  onClick={() => setMode(m)}
                >
                  {m === 'unified' ? 'Unified' : 'Split'}
                </button>
              ))}
            </fieldset>
          </div>
          {diff.data.files.length === 0 ? (
            <div className="state-box">The branch has no changes against {diff.data.base}.</div>
          ) : (
            <ul className="rv-files" aria-label="Changed files">
              {diff.data.files.map((f) => (
                <li key={f.path}>
                  <a href={`#${fileAnchor(f.path)}`}>
                    <code>{f.path}</code>
                  </a>{' '}
                  {f.added === null ? (
                    <span className="muted">binary</span>
                  ) : (
                    <>
                      <span className="d-add">+{f.added}</span>{' '}
                      <span className="d-del">−{f.removed}</span>
                    </>
                  )}
                </li>
              ))}
            </ul>
          )}
          {error && !composing ? (
            <p className="form-error" role="alert">
              {error}
            </p>
          ) : null}
          {files.map((f) => (
            <ReviewFile
              key={f.path}
              file={f}
              mode={mode}
              drafts={drafts.filter((c) => c.file === f.path)}
              composing={composing && composing.file === f.path ? composing : null}
              onCompose={compose}
              form={form}
              onDeleteDraft={(c) => void remove(c)}
            />
          ))}
        </>
      )}
      <ReviewActions task={task} drafts={drafts.length} reload={reloadAll} />
      <PastReviews review={review.data} />
    </div>
  );
}

function PastReviews({ review }: { review: TaskReview | undefined }) {
  if (!review || review.reviews.length === 0) return null;
  return (
    <section className="rv-past">
      <h3>Reviews</h3>
      <ul>
        {review.reviews.map((r) => (
          <li key={r.id} data-testid="past-review">
            <strong>{r.verdict === 'approve' ? '✓ Approved' : '↺ Changes requested'}</strong>{' '}
            <span className="muted">
              by {r.author} {ago(r.createdAt)} · {r.comments.length} line{' '}
              {r.comments.length === 1 ? 'comment' : 'comments'}
            </span>
            {r.run ? (
              <>
                {' '}
                ·{' '}
                <a href={`/tasks/${review.task}?run=${r.run}`} onClick={linkClick}>
                  run {r.run}
                </a>
              </>
            ) : null}
            {r.body ? <div className="rv-comment-body">{r.body}</div> : null}
          </li>
        ))}
      </ul>
    </section>
  );
}
