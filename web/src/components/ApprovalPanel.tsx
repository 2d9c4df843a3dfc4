import { useState } from 'react';
import { api } from '../api';
import { ago, duration } from '../format';
import { useNow } from '../hooks';
import { extraInputFields } from '../lib/tool-input';
import { visibleSegments, visibleText } from '../lib/visible';
import type { Approval, ApprovalRule, TaskDetail as Detail } from '../types';
import type { Act } from './TaskActions';

/**
 * The task's tool uses waiting for a person, at the top of its page: each
 * with what it would do and Allow once / Always allow / Deny with a message.
 * Decided requests below, collapsed, and the task's "always allow" rules.
 */
export function ApprovalPanel({ task, act }: { task: Detail; act: Act }) {
  const pending = task.approvals.filter((a) => a.state === 'pending');
  const decided = task.approvals.filter((a) => a.state !== 'pending');
  if (pending.length === 0 && decided.length === 0 && task.approvalRules.length === 0) return null;
  return (
    <section
      className={`approvals${pending.length > 0 ? ' has-pending' : ''}`}
      aria-labelledby="approvals-title"
      data-testid="approvals"
    >
      <h2 id="approvals-title">
        {pending.length > 0
          ? `Needs approval: ${pending.length} tool ${pending.length === 1 ? 'use' : 'uses'} waiting`
          : 'Approvals'}
      </h2>
      {pending.map((a) => (
        <PendingRequest key={a.id} a={a} act={act} />
      ))}
      {decided.length > 0 ? (
        <details className="approvals-decided">
          <summary>
            {decided.length} decided {decided.length === 1 ? 'request' : 'requests'}
          </summary>
          <ul>
            {decided.map((a) => (
              <li key={a.id} data-testid="approval-decided">
                <span className={`approval-state as-${a.state}`}>{stateWord(a)}</span>{' '}
                <code>{a.tool}</code> {oneLine(a)}{' '}
                <span className="muted">
                  {a.decidedBy ? `by ${a.decidedBy} ` : ''}
                  {ago(a.decidedAt)}
                </span>
                {a.message ? <div className="muted">“{a.message}”</div> : null}
              </li>
            ))}
          </ul>
        </details>
      ) : null}
      {task.approvalRules.length > 0 ? <Rules rules={task.approvalRules} act={act} /> : null}
    </section>
  );
}

function stateWord(a: Approval): string {
  if (a.state === 'allowed') return a.rule ? '✓ always allowed' : '✓ allowed';
  if (a.state === 'denied') return '✕ denied';
  return `– ${a.state}`;
}

function oneLine(a: Approval): string {
  const s = a.subject;
  const text = visibleText(s.kind === 'command' ? s.command : s.kind === 'edit' ? s.file : '');
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

/** Text a person must judge, with its invisible characters (bidi overrides, zero-width…) marked. */
function Visible({ text }: { text: string }) {
  return (
    <>
      {visibleSegments(text).map((seg, i) =>
        seg.hidden ? (
          // biome-ignore lint/suspicious/noArrayIndexKey: the segments of one fixed text
          <mark key={i} className="hidden-char" title={`invisible character ${seg.hidden}`}>
            ⟨{seg.hidden}⟩
          </mark>
        ) : (
          seg.text
        ),
      )}
    </>
  );
}

/** The input fields the subject does not show (Bash's timeout, Edit's replace_all…). */
function OtherInput({ a }: { a: Approval }) {
  const fields = extraInputFields(a.subject.kind, a.input);
  if (fields.length === 0) return null;
  return (
    <dl className="approval-input" data-testid="approval-input">
      {fields.map((f) => (
        <div key={f.key} className={f.warning ? 'approval-input-warn' : undefined}>
          <dt>
            <code>{f.key}</code>:
          </dt>{' '}
          <dd>
            <code>
              <Visible text={f.value} />
            </code>
            {f.warning ? <strong className="approval-warning"> ⚠ {f.warning}</strong> : null}
          </dd>
        </div>
      ))}
    </dl>
  );
}

function Subject({ a }: { a: Approval }) {
  const s = a.subject;
  if (s.kind === 'command') {
    return (
      <>
        {s.description ? (
          <p className="muted">
            <Visible text={s.description} />
          </p>
        ) : null}
        <pre className="approval-code" data-testid="approval-command">
          <code>
            <Visible text={s.command} />
          </code>
        </pre>
        <OtherInput a={a} />
      </>
    );
  }
  if (s.kind === 'edit') {
    return (
      <>
        <p>
          File{' '}
          <code data-testid="approval-file">
            <Visible text={s.file} />
          </code>
        </p>
        <pre className="approval-code approval-diff">
          {s.diff.split('\n').map((line, i) => (
            <div
              // biome-ignore lint/suspicious/noArrayIndexKey: the lines of one fixed diff
              key={i}
              className={line.startsWith('+') ? 'd-add' : line.startsWith('-') ? 'd-del' : ''}
            >
              {line ? <Visible text={line} /> : ' '}
            </div>
          ))}
        </pre>
        <OtherInput a={a} />
      </>
    );
  }
  return (
    <pre className="approval-code">
      <code>{JSON.stringify(a.input, null, 2)}</code>
    </pre>
  );
}

type Mode = 'none' | 'always' | 'deny';

function PendingRequest({ a, act }: { a: Approval; act: Act }) {
  const now = useNow(1000);
  const [mode, setMode] = useState<Mode>('none');
  const [rule, setRule] = useState(a.suggestedRule);
  const [message, setMessage] = useState('');
  const [busy, setBusy] = useState(false);
  const waited = Math.max(a.waitedMs, now - Date.parse(a.askedAt));
  const run = async (what: string, f: () => Promise<unknown>) => {
    setBusy(true);
    await act(what, f);
    setBusy(false);
  };
  const allow = (body: { always?: boolean; rule?: string }) =>
    run('Allow', () => api(`/approvals/${a.id}/allow`, { method: 'POST', json: body }));
  return (
    <article
      className="approval"
      data-testid="approval-pending"
      data-approval-id={a.id}
      aria-label={`${a.tool} request ${a.id}`}
    >
      <header className="approval-head">
        <strong>
          <code>{a.tool}</code>
        </strong>{' '}
        <span className="muted">
          asked by @{a.agent} in run {a.run} · waiting {duration(waited)}
        </span>
      </header>
      <Subject a={a} />
      <div className="actions">
        <button type="button" className="primary" disabled={busy} onClick={() => allow({})}>
          Allow once
        </button>
        <button
          type="button"
          disabled={busy}
          aria-expanded={mode === 'always'}
          onClick={() => setMode(mode === 'always' ? 'none' : 'always')}
        >
          Always allow for this task…
        </button>
        <button
          type="button"
          className="danger"
          disabled={busy}
          aria-expanded={mode === 'deny'}
          onClick={() => setMode(mode === 'deny' ? 'none' : 'deny')}
        >
          Deny with a message…
        </button>
      </div>
      {mode === 'always' ? (
        <form
          className="approval-form"
          onSubmit={(e) => {
            e.preventDefault();
            void allow({ always: true, rule: rule.trim() });
          }}
        >
          <label>
            Rule{' '}
            <span className="hint">
              a matching tool use on this task will not ask again, e.g.{' '}
              <code>Bash(npm test:*)</code>
            </span>
            <input
              value={rule}
              onChange={(e) => setRule(e.target.value)}
              placeholder={a.suggestedRule ? undefined : 'no narrower rule fits: write one'}
              required
              // biome-ignore lint/a11y/noAutofocus: the form opened on this button's press
              autoFocus
            />
          </label>
          <button type="submit" className="primary" disabled={busy || !rule.trim()}>
            Always allow
          </button>
        </form>
      ) : null}
      {mode === 'deny' ? (
        <form
          className="approval-form"
          onSubmit={(e) => {
            e.preventDefault();
            void run('Deny', () =>
              api(`/approvals/${a.id}/deny`, { method: 'POST', json: { message: message.trim() } }),
            );
          }}
        >
          <label>
            Message to the agent{' '}
            <span className="hint">(required: why, and what to do instead)</span>
            <textarea
              value={message}
              onChange={(e) => setMessage(e.target.value)}
              rows={3}
              required
              // biome-ignore lint/a11y/noAutofocus: the form opened on this button's press
              autoFocus
            />
          </label>
          <button type="submit" className="danger" disabled={busy || !message.trim()}>
            Deny
          </button>
        </form>
      ) : null}
    </article>
  );
}

function Rules({ rules, act }: { rules: ApprovalRule[]; act: Act }) {
  return (
    <div className="approval-rules">
      <h3>Always allowed on this task</h3>
      <ul>
        {rules.map((r) => (
          <li key={r.id} data-testid="approval-rule">
            <code>{r.rule}</code>{' '}
            <span className="muted">
              by {r.createdBy} {ago(r.createdAt)}
            </span>{' '}
            <button
              type="button"
              className="small"
              aria-label={`Remove rule ${r.rule}`}
              onClick={() =>
                void act('Remove rule', () =>
                  api(`/tasks/${r.task}/approval-rules/${r.id}`, { method: 'DELETE' }),
                )
              }
            >
              Remove
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
