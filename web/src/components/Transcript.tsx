import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { ApiError, api, errorText } from '../api';
import { when } from '../format';
import type { TranscriptEvent } from '../types';
import { Markdown } from './Markdown';
import { VirtualList } from './VirtualList';

/** One row of the transcript: an event, or a tool call joined with its result. */
type Row =
  | { kind: 'event'; e: TranscriptEvent }
  | { kind: 'tool'; call: TranscriptEvent; result: TranscriptEvent | null }
  | { kind: 'text'; seq: number; part: number; text: string };

/** Long plain output (a command agent's lines) is cut into rows of this many lines. */
const CHUNK_LINES = 40;

const HIDDEN = new Set(['usage', 'cost']);

function lineCount(s: string): number {
  let n = 1;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

function rowsOf(events: TranscriptEvent[]): Row[] {
  const rows: Row[] = [];
  const tools = new Map<string, Extract<Row, { kind: 'tool' }>>();
  for (const e of events) {
    if (HIDDEN.has(e.type)) continue;
    if (e.type === 'tool_call') {
      const r = { kind: 'tool' as const, call: e, result: null };
      tools.set(String(e.id), r);
      rows.push(r);
    } else if (e.type === 'tool_result' && tools.has(String(e.id))) {
      const r = tools.get(String(e.id));
      if (r) r.result = e;
    } else if (
      e.type === 'message' &&
      typeof e.text === 'string' &&
      lineCount(e.text) > CHUNK_LINES
    ) {
      // One huge row would defeat the virtual list: split it, as plain text.
      const lines = e.text.split('\n');
      for (let i = 0; i < lines.length; i += CHUNK_LINES) {
        rows.push({
          kind: 'text',
          seq: e.seq,
          part: i / CHUNK_LINES,
          text: lines.slice(i, i + CHUNK_LINES).join('\n'),
        });
      }
    } else {
      rows.push({ kind: 'event', e });
    }
  }
  return rows;
}

/**
 * The run's normalized transcript (messages, thinking, tool calls with their
 * results, errors), polled by cursor while the run is live. Virtualized.
 */
export function Transcript({ runId, active }: { runId: string; active: boolean }) {
  const [events, setEvents] = useState<TranscriptEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  /** gc's message once it removed the transcript: not an error, and not an empty run. */
  const [removed, setRemoved] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [open, setOpen] = useState<Set<number>>(new Set());
  const cursor = useRef(0);
  const busy = useRef(false);

  const pull = useCallback(async () => {
    if (busy.current) return;
    busy.current = true;
    try {
      for (let more = true; more; ) {
        const r = await api<{ items: TranscriptEvent[]; next: number; more: boolean }>(
          `/runs/${runId}/events?after=${cursor.current}&limit=1000`,
        );
        cursor.current = r.next;
        more = r.more;
        if (r.items.length > 0) setEvents((prev) => prev.concat(r.items));
      }
      setError(null);
    } catch (e) {
      if (e instanceof ApiError && e.code === 'output_removed') setRemoved(e.message);
      else setError(errorText(e));
    } finally {
      busy.current = false;
      setLoaded(true);
    }
  }, [runId]);

  useEffect(() => {
    cursor.current = 0;
    setEvents([]);
    setRemoved(null);
    setLoaded(false);
    setOpen(new Set());
    void pull();
  }, [pull]);

  useEffect(() => {
    if (!active) {
      void pull();
      return;
    }
    const t = setInterval(() => void pull(), 1000);
    return () => clearInterval(t);
  }, [active, pull]);

  const rows = useMemo(() => rowsOf(events), [events]);
  const estimate = useCallback(
    (i: number) => {
      const r = rows[i];
      return r?.kind === 'text' ? lineCount(r.text) * 18 + 12 : 44;
    },
    [rows],
  );
  const toggle = (seq: number) =>
    setOpen((s) => {
      const n = new Set(s);
      if (n.has(seq)) n.delete(seq);
      else n.add(seq);
      return n;
    });

  if (!loaded) return <div className="state-box">Loading the transcript…</div>;
  if (removed !== null) {
    return (
      <div className="state-box" role="note" data-testid="transcript-removed">
        {removed}
      </div>
    );
  }
  if (error && rows.length === 0) {
    return (
      <div className="state-box error" role="alert">
        The transcript could not load: {error}
      </div>
    );
  }
  if (rows.length === 0) {
    return (
      <div className="state-box" data-testid="transcript-empty">
        {active
          ? 'Waiting for the agent’s first words…'
          : 'This run left no transcript. The Raw tab shows its stdout and stderr.'}
      </div>
    );
  }
  return (
    <VirtualList
      className="transcript"
      count={rows.length}
      rowHeight={44}
      measure
      estimate={estimate}
      followTail
      rowKey={(i) => {
        const r = rows[i];
        if (!r) return i;
        return r.kind === 'tool' ? r.call.seq : r.kind === 'text' ? `${r.seq}.${r.part}` : r.e.seq;
      }}
      render={(i) => {
        const r = rows[i];
        if (!r) return null;
        if (r.kind === 'text') {
          return <div className={`tr tr-text${r.part > 0 ? ' cont' : ''}`}>{r.text}</div>;
        }
        return r.kind === 'tool' ? (
          <ToolRow row={r} open={open.has(r.call.seq)} onToggle={() => toggle(r.call.seq)} />
        ) : (
          <EventRow e={r.e} />
        );
      }}
      label="Transcript"
    />
  );
}

function EventRow({ e }: { e: TranscriptEvent }) {
  const text = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : '');
  switch (e.type) {
    case 'message':
      return (
        <div className="tr tr-message">
          <Markdown text={text('text')} />
        </div>
      );
    case 'thinking':
      return (
        <details className="tr tr-thinking">
          <summary>Thinking</summary>
          <div className="pre-wrap">{text('text')}</div>
        </details>
      );
    case 'error':
      return (
        <div className="tr tr-error" role="note">
          <strong>Error{e.status ? ` ${String(e.status)}` : ''}:</strong> {text('message')}
        </div>
      );
    case 'retry':
      return (
        <div className="tr tr-notice">
          ↻ retrying{e.status ? ` (${String(e.status)})` : ''}
          {typeof e.attempt === 'number' && e.attempt > 0
            ? ` ${e.attempt}${typeof e.maxRetries === 'number' ? `/${e.maxRetries}` : ''}`
            : ''}
          : {text('message')}
        </div>
      );
    case 'denial':
      return (
        <div className="tr tr-error" role="note" data-testid="denial">
          <strong>Denied {text('tool')}:</strong> {text('message')}
          <pre>{JSON.stringify(e.input, null, 2)}</pre>
        </div>
      );
    case 'approval':
      return <ApprovalRow e={e} />;
    case 'result':
      return (
        <div className={`tr tr-result ${e.ok ? 'ok' : 'bad'}`}>
          <strong>{e.ok ? 'Finished' : 'Ended with an error'}</strong>
          {text('text') ? <Markdown text={text('text')} /> : null}
        </div>
      );
    case 'session':
      return (
        <div className="tr tr-meta">
          session {text('sessionId')}
          {text('model') ? ` · ${text('model')}` : ''} · {when(e.at)}
        </div>
      );
    case 'parse_warning':
      return (
        <div className="tr tr-meta">
          {text('line') ? `unparsed output: ${text('line')}` : text('message')}
        </div>
      );
    default:
      return <div className="tr tr-meta">{e.type}</div>;
  }
}

/** A tool use put to a person on the board, and their decision (the engine notes both). */
function ApprovalRow({ e }: { e: TranscriptEvent }) {
  const text = (k: string) => (typeof e[k] === 'string' ? (e[k] as string) : '');
  const id = typeof e.approvalId === 'number' ? `A-${e.approvalId}` : 'approval';
  const state = text('state');
  if (state === 'pending') {
    return (
      <div className="tr tr-notice" data-testid="transcript-approval">
        ⏸ {id}: {text('tool')} waits for a person’s decision
      </div>
    );
  }
  const by = text('by');
  return (
    <div
      className={`tr ${state === 'allowed' ? 'tr-notice' : 'tr-error'}`}
      role="note"
      data-testid="transcript-approval"
    >
      <strong>
        {id}: {text('tool')} {state}
      </strong>
      {by ? ` by ${by}` : ''}
      {text('message') ? `: ${text('message')}` : ''}
    </div>
  );
}

function ToolRow({
  row,
  open,
  onToggle,
}: {
  row: Extract<Row, { kind: 'tool' }>;
  open: boolean;
  onToggle: () => void;
}) {
  const input = row.call.input;
  const summary = toolSummary(input);
  const status = row.result ? String(row.result.status) : 'running';
  return (
    <div className={`tr tr-tool ${status}`}>
      <button type="button" className="tool-head" aria-expanded={open} onClick={onToggle}>
        <span className="caret">{open ? '▾' : '▸'}</span>
        <span className="tool-name">{String(row.call.name)}</span>
        <span className="tool-summary">{summary}</span>
        <span className={`tool-status ${status}`}>{status}</span>
      </button>
      {open ? (
        <div className="tool-body">
          <div className="tool-label">input</div>
          <pre>{JSON.stringify(input, null, 2)}</pre>
          <div className="tool-label">result</div>
          <pre>{row.result ? String(row.result.output ?? '') : '(no result yet)'}</pre>
        </div>
      ) : null}
    </div>
  );
}

function toolSummary(input: unknown): string {
  if (input && typeof input === 'object') {
    const o = input as Record<string, unknown>;
    for (const k of ['command', 'file_path', 'path', 'pattern', 'url', 'query', 'description']) {
      if (typeof o[k] === 'string') return (o[k] as string).slice(0, 160);
    }
    return JSON.stringify(input).slice(0, 160);
  }
  return String(input ?? '').slice(0, 160);
}
