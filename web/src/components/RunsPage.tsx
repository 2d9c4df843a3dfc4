import { useCallback } from 'react';
import { api } from '../api';
import { useFeedRefresh } from '../feed';
import { duration, usd, when } from '../format';
import { useAsync } from '../hooks';
import { linkClick, navigate } from '../router';
import { type BoardEvent, RUN_STATES, type Run } from '../types';
import { UnsupervisedBadge } from './UnsupervisedBadge';

/** Every run, newest first, filtered by state and agent (kept in the URL). */
export function RunsPage({ agents, query }: { agents: string[]; query: URLSearchParams }) {
  const state = query.get('state') ?? '';
  const agent = query.get('agent') ?? '';
  const runs = useAsync(() => {
    const q = new URLSearchParams({ limit: '500' });
    if (state) q.set('state', state);
    if (agent) q.set('agent', agent);
    return api<{ items: Run[] }>(`/runs?${q}`);
  }, [state, agent]);
  const reload = runs.reload;
  const isRun = useCallback((e: BoardEvent) => e.type.startsWith('run.'), []);
  useFeedRefresh(reload, isRun, 300);
  const set = (k: string, v: string) => {
    const q = new URLSearchParams(query);
    if (v) q.set(k, v);
    else q.delete(k);
    const s = q.toString();
    navigate(`/runs${s ? `?${s}` : ''}`, true);
  };
  const items = runs.data?.items ?? [];
  return (
    <div className="page" data-testid="runs-page">
      <div className="page-head">
        <h1>Runs</h1>
        <div className="filters">
          <select aria-label="State" value={state} onChange={(e) => set('state', e.target.value)}>
            <option value="">All states</option>
            {RUN_STATES.map((s) => (
              <option key={s} value={s}>
                {s.replace('_', ' ')}
              </option>
            ))}
          </select>
          <select aria-label="Agent" value={agent} onChange={(e) => set('agent', e.target.value)}>
            <option value="">All agents</option>
            {agents.map((a) => (
              <option key={a} value={a}>
                {a}
              </option>
            ))}
          </select>
        </div>
      </div>
      {runs.error ? (
        <div className="state-box error" role="alert">
          Runs could not load: {runs.error}{' '}
          <button type="button" onClick={reload}>
            Try again
          </button>
        </div>
      ) : runs.loading && !runs.data ? (
        <div className="state-box">Loading runs…</div>
      ) : items.length === 0 ? (
        <div className="state-box">
          {state || agent
            ? 'No runs match these filters.'
            : 'No runs yet: move a card with an agent to Todo and it starts.'}
        </div>
      ) : (
        <div className="table-wrap">
          <table className="runs-table">
            <thead>
              <tr>
                <th>Run</th>
                <th>Task</th>
                <th>Agent</th>
                <th>State</th>
                <th>Attempt</th>
                <th>Started</th>
                <th>Duration</th>
                <th>Exit</th>
                <th>Cost</th>
                <th>Error</th>
              </tr>
            </thead>
            <tbody>
              {items.map((r) => (
                <tr key={r.id}>
                  <td>
                    <a href={`/tasks/${r.task}?run=${r.id}`} onClick={linkClick}>
                      <code>{r.id.slice(0, 10)}</code>
                    </a>
                  </td>
                  <td>
                    <a href={`/tasks/${r.task}`} onClick={linkClick}>
                      {r.task}
                    </a>
                  </td>
                  <td>{r.agent}</td>
                  <td>
                    <span className={`run-badge rs-${r.state}`}>{r.state.replace('_', ' ')}</span>{' '}
                    <UnsupervisedBadge run={r} />
                  </td>
                  <td>
                    {r.attempt}/{r.maxAttempts}
                  </td>
                  <td>{when(r.startedAt)}</td>
                  <td>{duration(r.durationMs)}</td>
                  <td>{r.exitCode ?? r.exitSignal ?? ''}</td>
                  <td>{usd(r.costUsd)}</td>
                  <td className="error-cell" title={r.errorSummary ?? ''}>
                    {r.errorSummary?.split('\n')[0] ?? ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
