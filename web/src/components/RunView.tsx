import { useState } from 'react';
import { ago } from '../format';
import { ACTIVE_RUN_STATES, type Run } from '../types';
import { DiffView } from './DiffView';
import { RawLog } from './RawLog';
import { Transcript } from './Transcript';
import { UnsupervisedBadge } from './UnsupervisedBadge';

type Tab = 'transcript' | 'stdout' | 'stderr' | 'diff';
const TAB_LABEL: Record<Tab, string> = {
  transcript: 'Transcript',
  stdout: 'Raw stdout',
  stderr: 'Raw stderr',
  diff: 'Diff',
};

/** One run: its summary and tabs for the transcript, raw output and diff. */
export function RunView({ run }: { run: Run }) {
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
          <span className={`run-badge rs-${run.state}`}>{run.state.replace('_', ' ')}</span>{' '}
          <UnsupervisedBadge run={run} />
        </h2>
        <span className="muted">
          {run.agent} · started {ago(run.startedAt)}
          {run.cliVersion ? ` · ${run.cliVersion}` : ''}
          {run.notice ? ` · ${run.notice}` : ''}
        </span>
        {run.denials > 0 ? (
          <span className="flag flag-denied" data-testid="run-denials">
            {run.denials} tool {run.denials === 1 ? 'use' : 'uses'} denied
          </span>
        ) : null}
        {run.unparsedLines > 0 ? (
          <span className="flag flag-notice" data-testid="run-unparsed">
            {run.unparsedLines} unparsed output {run.unparsedLines === 1 ? 'line' : 'lines'}
          </span>
        ) : null}
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
