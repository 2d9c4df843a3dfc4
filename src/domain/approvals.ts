/**
 * Approval rules, in Claude Code's syntax, and what a tool use shows a
 * person. Pure: the caller passes the run's working directory in.
 *
 * - `Bash(npm test:*)`: a command that is `npm test`, or starts with
 *   `npm test` and a space. `Bash(make build)`: exactly that command.
 * - `Edit`: any file edit; `Edit(src/**)`, `Write(docs/*.md)`: the edited
 *   file's path, relative to the run's directory (a pattern starting with `/`
 *   is absolute). An `Edit` rule covers every file-editing tool, as Claude's does.
 * - Any other tool by its bare name, e.g. `WebFetch`, `mcp__github__create_issue`.
 *
 * Unlike Claude's own prefix rules, a command holding a shell control
 * operator (`;` `&` `|` a backtick `$(` `>` `<` or a line break) never
 * matches a prefix rule: `Bash(npm test:*)` must not allow
 * `npm test && rm -rf /`. Only a rule naming that exact command does.
 */
import path from 'node:path';

/** What the request shows a person (the contract's approvalSubject). */
export type ApprovalSubjectOf =
  | { kind: 'command'; command: string; description: string | null }
  | { kind: 'edit'; file: string; diff: string }
  | { kind: 'other' };

export type RulePattern =
  | { kind: 'any' }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'exact'; command: string }
  | { kind: 'glob'; glob: string; absolute: boolean };

export interface ParsedRule {
  tool: string;
  pattern: RulePattern;
}

/** Tools that edit one file; an `Edit` rule covers them all. */
export const EDIT_TOOLS = ['Edit', 'MultiEdit', 'Write', 'NotebookEdit'] as const;
/** Tools whose rule pattern is a path glob. */
const PATH_TOOLS = new Set<string>([...EDIT_TOOLS, 'Read']);

const RULE = /^([A-Za-z0-9_.-]+)(?:\((.+)\))?$/s;
/** Shell syntax that chains, substitutes or redirects: a prefix rule never covers it. */
const SHELL_CONTROL = /[;&|`<>\n\r]|\$\(/;

/** Parses a rule, or says what is wrong with it (in a sentence the user can act on). */
export function parseRule(text: string): ParsedRule | string {
  const m = RULE.exec(text.trim());
  const tool = m?.[1];
  if (!m || !tool)
    return `"${text}" is not a rule: write a tool name, optionally with a pattern, e.g. Bash(npm test:*) or Edit(src/**)`;
  const inner = m[2];
  if (inner === undefined) return { tool, pattern: { kind: 'any' } };
  if (tool === 'Bash') {
    if (inner.endsWith(':*')) {
      const prefix = inner.slice(0, -2).trim();
      if (!prefix) return 'Bash(:*) allows every command: write the bare rule Bash for that';
      return { tool, pattern: { kind: 'prefix', prefix } };
    }
    if (inner.includes('*'))
      return `${text}: a Bash rule is a prefix, Bash(npm test:*), or an exact command, Bash(npm test)`;
    return { tool, pattern: { kind: 'exact', command: inner.trim() } };
  }
  if (PATH_TOOLS.has(tool)) {
    const glob = inner.trim();
    if (!glob) return `${text}: the pattern is empty; write the bare rule ${tool} for every file`;
    return { tool, pattern: { kind: 'glob', glob, absolute: glob.startsWith('/') } };
  }
  return `${text}: only Bash and the file tools (${[...PATH_TOOLS].join(', ')}) take a pattern; allow ${tool} by its bare name`;
}

/** A tool use as the agent asked it. */
export interface ToolUse {
  tool: string;
  input: Record<string, unknown>;
}

/** Whether `rule` allows `use`, for a run working in `cwd`. */
export function ruleMatches(rule: ParsedRule | string, use: ToolUse, cwd: string): boolean {
  const r = typeof rule === 'string' ? parseRule(rule) : rule;
  if (typeof r === 'string') return false;
  if (!toolCovered(r.tool, use.tool)) return false;
  const p = r.pattern;
  switch (p.kind) {
    case 'any':
      return true;
    case 'prefix':
    case 'exact': {
      const command = commandOf(use.input);
      return command !== null && commandMatches(p, command);
    }
    case 'glob': {
      const file = fileOf(use.tool, use.input);
      return file !== null && pathMatches(p, file, cwd);
    }
  }
}

function toolCovered(ruleTool: string, tool: string): boolean {
  if (ruleTool === tool) return true;
  return ruleTool === 'Edit' && (EDIT_TOOLS as readonly string[]).includes(tool);
}

/** A command against a Bash pattern; see the module comment for the shell-operator rule. */
export function commandMatches(
  p: { kind: 'prefix'; prefix: string } | { kind: 'exact'; command: string },
  raw: string,
): boolean {
  const command = raw.trim();
  if (p.kind === 'exact') return command === p.command;
  if (command === p.prefix) return true;
  if (SHELL_CONTROL.test(command)) return false;
  if (!command.startsWith(p.prefix)) return false;
  const next = command.charAt(p.prefix.length);
  return next === ' ' || next === '\t';
}

function pathMatches(p: { glob: string; absolute: boolean }, file: string, cwd: string): boolean {
  const abs = path.posix.resolve(cwd, file);
  if (p.absolute) return globRegex(p.glob).test(abs);
  const rel = path.posix.relative(cwd, abs);
  // A path that leaves the run's directory is never under a relative pattern.
  if (rel === '' || rel.startsWith('..') || path.posix.isAbsolute(rel)) return false;
  return globRegex(p.glob).test(rel);
}

/** `**` any path (slashes too), `*` and `?` within one path segment. */
function globRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === '*' && glob.charAt(i + 1) === '*') {
      const slash = glob.charAt(i + 2) === '/';
      out += slash ? '(?:.*/)?' : '.*';
      i += slash ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`, 's');
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

function commandOf(input: Record<string, unknown>): string | null {
  return str(input.command);
}

/** The file a file tool acts on, as the agent named it. */
export function fileOf(tool: string, input: Record<string, unknown>): string | null {
  if (!PATH_TOOLS.has(tool)) return null;
  return str(input.file_path) ?? str(input.notebook_path) ?? str(input.path);
}

/** The rule "always allow" adds unless the person writes another. */
export function suggestedRule(use: ToolUse, cwd: string): string {
  if (use.tool === 'Bash') {
    const words = (commandOf(use.input) ?? '').trim().split(/\s+/).filter(Boolean);
    // Stop at the first operator: `cd x && make` suggests Bash(cd x:*).
    const plain: string[] = [];
    for (const w of words.slice(0, 2)) {
      const cut = w.split(SHELL_CONTROL)[0] ?? '';
      if (cut) plain.push(cut);
      if (cut !== w) break;
    }
    return plain.length > 0 ? `Bash(${plain.join(' ')}:*)` : 'Bash';
  }
  const file = fileOf(use.tool, use.input);
  if (file !== null && (EDIT_TOOLS as readonly string[]).includes(use.tool)) {
    const abs = path.posix.resolve(cwd, file);
    const rel = path.posix.relative(cwd, abs);
    const inside = rel !== '' && !rel.startsWith('..');
    return `Edit(${inside ? rel : abs})`;
  }
  return use.tool;
}

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
