import { useCallback } from 'react';
import { api } from '../api';
import { useFeedRefresh } from '../feed';
import { usd } from '../format';
import { useAsync } from '../hooks';
import type { BoardEvent } from '../types';

export interface AgentReport {
  name: string;
  kind: string;
  command: string;
  path: string | null;
  version: string | null;
  versionOk: boolean | null;
  versionStatus: 'tested' | 'older' | 'newer' | 'unknown';
  minVersion: string | null;
  maxVersion: string | null;
  credentials: { ok: boolean; source: string };
  problems: string[];
  warnings: string[];
  canRun: boolean;
  running: number;
  maxConcurrency: number;
  usage: { runs: number; costUsd: number };
}

/** Each configured agent: installed version, credentials, running against its limit. */
export function AgentsPage() {
  const agents = useAsync(() => api<{ items: AgentReport[] }>('/agents'), []);
  const reload = agents.reload;
  const isRun = useCallback(
    (e: BoardEvent) => e.type === 'run.started' || e.type === 'run.finished',
    [],
  );
  useFeedRefresh(reload, isRun, 500);
  const items = agents.data?.items ?? [];
  return (
    <div className="page" data-testid="agents-page">
      <div className="page-head">
        <h1>Agents</h1>
        <button type="button" onClick={reload}>
          Check again
        </button>
      </div>
      {agents.error && !agents.data ? (
        <div className="state-box error" role="alert">
          Agents could not load: {agents.error}
        </div>
      ) : agents.loading && !agents.data ? (
        <div className="state-box">Checking agents…</div>
      ) : items.length === 0 ? (
        <div className="state-box">
          No agents configured. Add one under <code>agents:</code> in the board’s{' '}
          <code>config.yaml</code> (any program works with <code>kind: command</code>), then restart{' '}
          <code>agentboard serve</code>.
        </div>
      ) : (
        <div className="agent-grid">
          {items.map((a) => (
            <article
              key={a.name}
              className={`panel agent ${a.canRun ? 'ok' : 'bad'}`}
              data-agent={a.name}
            >
              <header>
                <h2>{a.name}</h2>
                <span className="chip">{a.kind}</span>
                <span className={`status-dot ${a.canRun ? 'ok' : 'bad'}`}>
                  {a.canRun ? 'ready' : 'cannot run'}
                </span>
              </header>
              <dl>
                <dt>Version</dt>
                <dd>
                  {a.version ??
                    (a.path ? (
                      <span className="muted">unknown ({a.path})</span>
                    ) : (
                      <span className="bad-text">not installed ({a.command})</span>
                    ))}
                  {a.versionStatus === 'older' || a.versionStatus === 'newer' ? (
                    <span
                      className="bad-text"
                      title={`tested with ${a.minVersion} to ${a.maxVersion} (agents.${a.name}.tested_versions overrides)`}
                    >
                      {' '}
                      ({a.versionStatus} than tested)
                    </span>
                  ) : null}
                </dd>
                <dt>Credentials</dt>
                <dd className={a.credentials.ok ? 'ok-text' : 'bad-text'}>
                  {a.credentials.ok ? 'OK' : 'missing'} · {a.credentials.source}
                </dd>
                <dt>Running</dt>
                <dd>
                  <meter min={0} max={a.maxConcurrency} value={a.running} /> {a.running} of{' '}
                  {a.maxConcurrency}
                </dd>
                <dt>Usage</dt>
                <dd>
                  {a.usage.runs} runs · {usd(a.usage.costUsd)}
                </dd>
              </dl>
              {[...a.problems, ...a.warnings].map((p) => (
                <p key={p} className={a.problems.includes(p) ? 'bad-text' : 'muted'}>
                  {p}
                </p>
              ))}
            </article>
          ))}
        </div>
      )}
    </div>
  );
}
