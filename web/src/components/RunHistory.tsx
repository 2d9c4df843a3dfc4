import { duration, usd } from '../format';
import { useNow } from '../hooks';
import { navigate } from '../router';
import { ACTIVE_RUN_STATES, type Run } from '../types';
import { UnsupervisedBadge } from './UnsupervisedBadge';

/** Every run of a task, newest first; choosing one shows it in the run view. */
export function RunHistory({
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
              <UnsupervisedBadge run={r} />
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
