import {
  type FocusEvent,
  Fragment,
  type KeyboardEvent,
  type ReactNode,
  useMemo,
  useRef,
  useState,
} from 'react';
import { changedLines, type DiffFile, type DiffLine, splitRows } from '../lib/diff-parse';
import { highlightLines, languageFor, type Token } from '../lib/highlight';
import type { ReviewComment } from '../types';

/** Files with more changed lines than this start collapsed. */
export const COLLAPSE_OVER = 400;

export type DiffMode = 'unified' | 'split';

/** Where a comment on a line goes: the branch's line number, or the base's for a removed line. */
export interface LineRef {
  side: 'old' | 'new';
  line: number;
}

export function lineRef(l: DiffLine): LineRef {
  return l.newNo !== null ? { side: 'new', line: l.newNo } : { side: 'old', line: l.oldNo ?? 0 };
}

const refKey = (r: LineRef) => `${r.side}:${r.line}`;

interface Props {
  file: DiffFile;
  mode: DiffMode;
  drafts: ReviewComment[];
  /** The line whose comment form is open in this file, if any. */
  composing: LineRef | null;
  onCompose: (file: DiffFile, line: DiffLine) => void;
  /** The comment form, drawn under the line it is for. */
  form: ReactNode;
  onDeleteDraft: (c: ReviewComment) => void;
}

/** Tokens for each line of a file, the base's and the branch's lines each coloured in order. */
function useTokens(file: DiffFile): Map<DiffLine, Token[]> {
  return useMemo(() => {
    const lang = languageFor(file.path);
    const map = new Map<DiffLine, Token[]>();
    for (const h of file.hunks) {
      const olds = h.lines.filter((l) => l.kind !== 'add');
      const news = h.lines.filter((l) => l.kind !== 'del');
      highlightLines(
        olds.map((l) => l.text),
        lang,
      ).forEach((t, i) => {
        const l = olds[i];
        if (l && l.kind === 'del') map.set(l, t);
      });
      highlightLines(
        news.map((l) => l.text),
        lang,
      ).forEach((t, i) => {
        const l = news[i];
        if (l) map.set(l, t);
      });
    }
    return map;
  }, [file]);
}

function Code({ tokens, line }: { tokens: Token[] | undefined; line: DiffLine }) {
  return (
    <span className="rv-code">
      {tokens && tokens.length > 0
        ? tokens.map((t, i) =>
            t.kind === 'plain' ? (
              t.text
            ) : (
              // biome-ignore lint/suspicious/noArrayIndexKey: the tokens of one fixed line
              <span key={i} className={`hl-${t.kind}`}>
                {t.text}
              </span>
            ),
          )
        : line.text || ' '}
      {line.noNewline ? <span className="rv-nonl"> (no newline at end of file)</span> : null}
    </span>
  );
}

const MARK: Record<DiffLine['kind'], string> = { add: '+', del: '−', context: ' ' };

/** One file of the branch's diff: header with counts, then its hunks, unified or side by side. */
export function ReviewFile(p: Props) {
  const { file, mode } = p;
  const big = changedLines(file) > COLLAPSE_OVER;
  const [open, setOpen] = useState(!big);
  const tokens = useTokens(file);
  const table = useRef<HTMLTableElement>(null);
  // Roving tabindex: one line of the file is a tab stop, arrows move between lines.
  const stops = useMemo(() => focusKeys(file, mode), [file, mode]);
  const [current, setCurrent] = useState<string | null>(null);
  const tabStop =
    current !== null && stops.has(current) ? current : (stops.values().next().value ?? null);
  const byLine = useMemo(() => {
    const m = new Map<string, ReviewComment[]>();
    for (const c of p.drafts) {
      const k = refKey(c);
      m.set(k, [...(m.get(k) ?? []), c]);
    }
    return m;
  }, [p.drafts]);

  const under = (l: DiffLine | null, cols: number) => {
    if (!l) return null;
    const ref = lineRef(l);
    const comments = byLine.get(refKey(ref)) ?? [];
    const composing = p.composing && refKey(p.composing) === refKey(ref);
    if (comments.length === 0 && !composing) return null;
    return (
      <tr className="rv-thread">
        <td colSpan={cols}>
          {comments.map((c) => (
            <div key={c.id} className="rv-comment" data-testid="draft-comment">
              <span className="muted">
                {c.author} · draft on {c.side === 'old' ? 'old ' : ''}line {c.line}
              </span>
              <div className="rv-comment-body">{c.body}</div>
              <button
                type="button"
                className="small"
                aria-label={`Delete draft comment on line ${c.line}`}
                onClick={() => p.onDeleteDraft(c)}
              >
                Delete
              </button>
            </div>
          ))}
          {composing ? p.form : null}
        </td>
      </tr>
    );
  };

  const gutter = (l: DiffLine | null, no: number | null) => (
    <td className="rv-no">
      {l && no !== null ? (
        <button
          type="button"
          tabIndex={-1}
          className="rv-gutter"
          aria-label={`Comment on line ${no} of ${file.path}`}
          onClick={() => p.onCompose(file, l)}
        >
          {no}
        </button>
      ) : null}
    </td>
  );

  const keys = (l: DiffLine) => (e: KeyboardEvent<HTMLElement>) => {
    if (e.target !== e.currentTarget) return;
    if (e.key === 'Enter') {
      e.preventDefault();
      p.onCompose(file, l);
      return;
    }
    const all = [...(table.current?.querySelectorAll<HTMLElement>('[data-stop]') ?? [])];
    const at = all.indexOf(e.currentTarget);
    const to =
      e.key === 'ArrowDown' || e.key === 'ArrowRight'
        ? at + 1
        : e.key === 'ArrowUp' || e.key === 'ArrowLeft'
          ? at - 1
          : e.key === 'Home'
            ? 0
            : e.key === 'End'
              ? all.length - 1
              : null;
    const next = to === null ? undefined : all[Math.max(0, Math.min(all.length - 1, to))];
    if (!next) return;
    e.preventDefault();
    next.focus();
  };
  const focused = (e: FocusEvent<HTMLElement>) => {
    const key = e.currentTarget.dataset.stop;
    if (key) setCurrent(key);
  };
  const stop = (key: string, l: DiffLine) => ({
    'data-stop': key,
    tabIndex: key === tabStop ? 0 : -1,
    onKeyDown: keys(l),
    onFocus: focused,
  });

  const unified = (l: DiffLine, i: number) => (
    <Fragment key={i}>
      <tr
        className={`rv-line rv-${l.kind}`}
        {...stop(refKey(lineRef(l)), l)}
        data-line={refKey(lineRef(l))}
      >
        {gutter(l, l.oldNo)}
        {gutter(l, l.newNo)}
        <td className="rv-mark" aria-hidden="true">
          {MARK[l.kind]}
        </td>
        <td className="rv-text">
          <Code tokens={tokens.get(l)} line={l} />
        </td>
      </tr>
      {under(l, 4)}
    </Fragment>
  );

  const cell = (l: DiffLine | null, no: number | null, column: 'left' | 'right') => (
    <>
      {gutter(l, no)}
      <td
        className={`rv-text rv-${l ? l.kind : 'empty'}`}
        {...(l ? stop(splitKey(column, l), l) : {})}
      >
        {l ? (
          <>
            <span className="rv-mark-inline" aria-hidden="true">
              {MARK[l.kind]}
            </span>
            <Code tokens={tokens.get(l)} line={l} />
          </>
        ) : null}
      </td>
    </>
  );

  return (
    <section
      className="rv-file"
      data-testid="review-file"
      data-path={file.path}
      id={fileAnchor(file.path)}
    >
      <header className="rv-file-head">
        <button
          type="button"
          className="rv-toggle"
          aria-expanded={open}
          onClick={() => setOpen(!open)}
          aria-label={`${open ? 'Hide' : 'Show'} ${file.path}`}
        >
          {open ? '▾' : '▸'}
        </button>
        <code className="rv-path">
          {file.status === 'renamed' ? `${file.oldPath} → ${file.newPath}` : file.path}
        </code>
        <span className={`rv-status rs-${file.status}`}>{file.status}</span>
        {file.binary ? (
          <span className="muted">binary</span>
        ) : (
          <span>
            <span className="d-add">+{file.added}</span>{' '}
            <span className="d-del">−{file.removed}</span>
          </span>
        )}
        {file.modeChange ? <span className="muted">mode {file.modeChange}</span> : null}
      </header>
      {!open ? (
        big ? (
          <p className="rv-collapsed">
            {changedLines(file)} changed lines: collapsed.{' '}
            <button type="button" onClick={() => setOpen(true)}>
              Show
            </button>
          </p>
        ) : null
      ) : file.binary ? (
        <p className="rv-collapsed muted">A binary file: no lines to show.</p>
      ) : (
        <table ref={table} className={`rv-table rv-${mode}`}>
          {mode === 'unified' ? (
            <colgroup>
              <col className="rv-col-no" />
              <col className="rv-col-no" />
              <col className="rv-col-mark" />
              <col />
            </colgroup>
          ) : (
            <colgroup>
              <col className="rv-col-no" />
              <col />
              <col className="rv-col-no" />
              <col />
            </colgroup>
          )}
          {file.hunks.map((h) => (
            <tbody key={`${h.oldStart}-${h.newStart}`}>
              <tr className="rv-hunk">
                <td colSpan={4}>
                  @@ −{h.oldStart},{h.oldLines} +{h.newStart},{h.newLines} @@ {h.section}
                </td>
              </tr>
              {mode === 'unified'
                ? h.lines.map(unified)
                : splitRows(h).map((r, i) => (
                    // biome-ignore lint/suspicious/noArrayIndexKey: the rows of one fixed hunk
                    <Fragment key={i}>
                      <tr className="rv-line">
                        {cell(r.left, r.left?.oldNo ?? null, 'left')}
                        {cell(r.right, r.right?.newNo ?? null, 'right')}
                      </tr>
                      {under(r.left && r.left.kind === 'del' ? r.left : null, 4)}
                      {under(r.right, 4)}
                    </Fragment>
                  ))}
            </tbody>
          ))}
        </table>
      )}
    </section>
  );
}

export function fileAnchor(path: string): string {
  return `file-${path.replace(/[^A-Za-z0-9_-]/g, '_')}`;
}

/** A split view's cell: a context line is on both sides, each its own stop. */
function splitKey(column: 'left' | 'right', l: DiffLine): string {
  return `${column}:${refKey(lineRef(l))}`;
}

/** The keys of the file's focusable lines (or split cells), in the order they are drawn. */
function focusKeys(file: DiffFile, mode: DiffMode): Set<string> {
  const keys = new Set<string>();
  for (const h of file.hunks) {
    if (mode === 'unified') {
      for (const l of h.lines) keys.add(refKey(lineRef(l)));
      continue;
    }
    for (const r of splitRows(h)) {
      if (r.left) keys.add(splitKey('left', r.left));
      if (r.right) keys.add(splitKey('right', r.right));
    }
  }
  return keys;
}
