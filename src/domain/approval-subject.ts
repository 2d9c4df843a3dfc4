/**
 * What an approval request shows a person: the command, or the file and the
 * change as a unified diff worked out from the edit tool's input. Pure.
 */
import { commandOf, fileOf, type ToolUse } from './approvals.js';

/** What the request shows a person (the contract's approvalSubject). */
export type ApprovalSubjectOf =
  | { kind: 'command'; command: string; description: string | null }
  | { kind: 'edit'; file: string; diff: string }
  | { kind: 'other' };

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/** What the request shows: the command, or the file and the change as a unified diff. */
export function subjectOf(use: ToolUse): ApprovalSubjectOf {
  const input = use.input;
  if (use.tool === 'Bash') {
    const command = commandOf(input);
    if (command !== null) return { kind: 'command', command, description: str(input.description) };
    return { kind: 'other' };
  }
  const file = fileOf(use.tool, input);
  if (file === null || use.tool === 'Read') return { kind: 'other' };
  const pairs = editPairs(use.tool, input);
  if (pairs === null) return { kind: 'other' };
  const hunks = pairs.map(([a, b]) => hunk(a, b)).join('');
  return { kind: 'edit', file, diff: `--- ${file}\n+++ ${file}\n${hunks}` };
}

/** The (old, new) text pairs an edit tool's input describes. */
function editPairs(tool: string, input: Record<string, unknown>): [string, string][] | null {
  switch (tool) {
    case 'Edit': {
      const a = str(input.old_string);
      const b = str(input.new_string);
      return a === null || b === null ? null : [[a, b]];
    }
    case 'MultiEdit': {
      if (!Array.isArray(input.edits)) return null;
      const out: [string, string][] = [];
      for (const e of input.edits) {
        const o = typeof e === 'object' && e !== null ? (e as Record<string, unknown>) : {};
        const a = str(o.old_string);
        const b = str(o.new_string);
        if (a === null || b === null) return null;
        out.push([a, b]);
      }
      return out;
    }
    case 'Write': {
      const b = str(input.content);
      return b === null ? null : [['', b]];
    }
    case 'NotebookEdit': {
      const b = input.edit_mode === 'delete' ? '' : str(input.new_source);
      return b === null ? null : [['', b]];
    }
    default:
      return null;
  }
}

const CONTEXT = 3;
/** Past this many line pairs the diff is one block of removals and additions. */
const MAX_DIFF_CELLS = 1_000_000;

function lines(text: string): string[] {
  if (text === '') return [];
  const out = text.split('\n');
  if (out.at(-1) === '') out.pop();
  return out;
}

/**
 * One old/new pair as unified-diff hunks. Where the snippet sits in the file
 * is not known, so line numbers count from the snippet's start.
 */
function hunk(before: string, after: string): string {
  const a = lines(before);
  const b = lines(after);
  const ops = diffLines(a, b);
  const changed = ops.map((o, i) => (o.op === ' ' ? -1 : i)).filter((i) => i >= 0);
  if (changed.length === 0) return '';
  let out = '';
  let start = 0;
  while (start < changed.length) {
    let end = start;
    while (
      end + 1 < changed.length &&
      (changed[end + 1] as number) - (changed[end] as number) <= CONTEXT * 2
    )
      end++;
    const from = Math.max(0, (changed[start] as number) - CONTEXT);
    const to = Math.min(ops.length - 1, (changed[end] as number) + CONTEXT);
    const slice = ops.slice(from, to + 1);
    const oldStart = ops.slice(0, from).filter((o) => o.op !== '+').length;
    const newStart = ops.slice(0, from).filter((o) => o.op !== '-').length;
    const oldLen = slice.filter((o) => o.op !== '+').length;
    const newLen = slice.filter((o) => o.op !== '-').length;
    out += `@@ -${oldLen === 0 ? oldStart : oldStart + 1},${oldLen} +${newLen === 0 ? newStart : newStart + 1},${newLen} @@\n`;
    for (const o of slice) out += `${o.op}${o.line}\n`;
    start = end + 1;
  }
  return out;
}

interface Op {
  op: ' ' | '-' | '+';
  line: string;
}

/** A longest-common-subsequence line diff (plain blocks when the input is huge). */
function diffLines(a: string[], b: string[]): Op[] {
  if (a.length * b.length > MAX_DIFF_CELLS) {
    return [
      ...a.map((line) => ({ op: '-' as const, line })),
      ...b.map((line) => ({ op: '+' as const, line })),
    ];
  }
  const n = a.length;
  const m = b.length;
  const lcs = new Uint32Array((n + 1) * (m + 1));
  for (let i = n - 1; i >= 0; i--)
    for (let j = m - 1; j >= 0; j--)
      lcs[i * (m + 1) + j] =
        a[i] === b[j]
          ? (lcs[(i + 1) * (m + 1) + j + 1] as number) + 1
          : Math.max(lcs[(i + 1) * (m + 1) + j] as number, lcs[i * (m + 1) + j + 1] as number);
  const out: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      out.push({ op: ' ', line: a[i] as string });
      i++;
      j++;
    } else if ((lcs[(i + 1) * (m + 1) + j] as number) >= (lcs[i * (m + 1) + j + 1] as number)) {
      out.push({ op: '-', line: a[i++] as string });
    } else out.push({ op: '+', line: b[j++] as string });
  }
  while (i < n) out.push({ op: '-', line: a[i++] as string });
  while (j < m) out.push({ op: '+', line: b[j++] as string });
  return out;
}

/** One line for feeds: the command, the file, or the tool. */
export function approvalPreview(use: ToolUse, max = 200): string {
  const s = subjectOf(use);
  const text = s.kind === 'command' ? s.command : s.kind === 'edit' ? s.file : use.tool;
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}
