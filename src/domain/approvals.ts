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
  if (!balanced(inner))
    return `${text}: the parentheses in the pattern do not pair up; write one pattern in one pair, e.g. Bash(make build) or Edit(src/**)`;
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

/** Every `)` closes an earlier `(`: `Bash(a)(b)` is two patterns glued, not the command `a)(b`. */
function balanced(pattern: string): boolean {
  let depth = 0;
  for (const c of pattern) {
    if (c === '(') depth++;
    else if (c === ')' && --depth < 0) return false;
  }
  return depth === 0;
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
  if (!insideOf(rel)) return false;
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

export function commandOf(input: Record<string, unknown>): string | null {
  return str(input.command);
}

/** The file a file tool acts on, as the agent named it. */
export function fileOf(tool: string, input: Record<string, unknown>): string | null {
  if (!PATH_TOOLS.has(tool)) return null;
  return str(input.file_path) ?? str(input.notebook_path) ?? str(input.path);
}

/**
 * Programs that run whatever their arguments say (shells, interpreters, and
 * wrappers that run another command): a prefix rule on them would allow
 * anything, so the suggestion is the exact command.
 */
const RUNS_ANYTHING = new Set([
  'sh',
  'bash',
  'zsh',
  'dash',
  'fish',
  'ksh',
  'mksh',
  'csh',
  'tcsh',
  'ash',
  'busybox',
  'python',
  'python2',
  'python3',
  'pypy',
  'pypy3',
  'node',
  'nodejs',
  'deno',
  'bun',
  'perl',
  'ruby',
  'php',
  'lua',
  'luajit',
  'tclsh',
  'osascript',
  'pwsh',
  'powershell',
  'awk',
  'gawk',
  'env',
  'xargs',
  'sudo',
  'doas',
  'su',
  'eval',
  'exec',
  'command',
  'builtin',
  'source',
  '.',
  'nohup',
  'timeout',
  'nice',
  'ionice',
  'time',
  'watch',
  'setsid',
  'stdbuf',
  'chroot',
  'flock',
  'parallel',
  'strace',
  'ltrace',
  'unbuffer',
  'script',
]);
/** A word a prefix rule can name: no quoting, expansion, assignment or glob. */
const PLAIN_WORD = /^[A-Za-z0-9_./][A-Za-z0-9_./+@%,:-]*$/;

/** The program a first word names: its base name, a version suffix dropped (`python3.12`). */
function programOf(word: string): string[] {
  const base = path.posix.basename(word);
  return [base, base.replace(/[0-9.]+$/, '')];
}

/**
 * The rule "always allow" adds unless the person writes another; null when no
 * rule narrower than the whole tool covers this use (allow it once, or write
 * one). Never a bare `Bash` or bare file tool: those allow every command or file.
 *
 * - Bash: `Bash(<first> <second>:*)` for a plain command (`npm test -- --watch`
 *   gives `Bash(npm test:*)`, `ls *.ts` gives `Bash(ls:*)`); the exact command
 *   when the first word is not a plain program name, is a shell, interpreter or
 *   wrapper (`python -c …`), the second word is a flag (`rm -rf build`), or the
 *   command holds a shell operator (`$(which npm) test`, `make && rm -rf /`).
 * - File tools: `Read(<file>)`, or `Edit(<file>)` for every editing tool.
 * - Any other tool: its name.
 */
export function suggestedRule(use: ToolUse, cwd: string): string | null {
  if (use.tool === 'Bash') {
    const command = (commandOf(use.input) ?? '').trim();
    if (!command) return null;
    return prefixSuggestion(command) ?? exactRule(command);
  }
  if (PATH_TOOLS.has(use.tool)) {
    const file = fileOf(use.tool, use.input);
    if (file === null || !file.trim() || /[*?]/.test(file)) return null;
    const abs = path.posix.resolve(cwd, file);
    const rel = path.posix.relative(cwd, abs);
    const tool = use.tool === 'Read' ? 'Read' : 'Edit';
    const rule = `${tool}(${insideOf(rel) ? rel : abs})`;
    const parsed = parseRule(rule);
    return typeof parsed !== 'string' && parsed.pattern.kind === 'glob' ? rule : null;
  }
  return typeof parseRule(use.tool) === 'string' ? null : use.tool;
}

/** `Bash(<one or two words>:*)` when the command is a plain program with plain arguments. */
function prefixSuggestion(command: string): string | null {
  if (SHELL_CONTROL.test(command)) return null;
  const [first, second] = command.split(/\s+/);
  if (!first || !PLAIN_WORD.test(first) || first.endsWith(':')) return null;
  if (programOf(first).some((p) => RUNS_ANYTHING.has(p))) return null;
  if (second?.startsWith('-')) return null;
  const words =
    second && PLAIN_WORD.test(second) && !second.endsWith(':') ? [first, second] : [first];
  return `Bash(${words.join(' ')}:*)`;
}

/** `Bash(<command>)`, if it reads back as exactly that command (no `*`, balanced parentheses). */
function exactRule(command: string): string | null {
  const rule = `Bash(${command})`;
  const parsed = parseRule(rule);
  return typeof parsed !== 'string' &&
    parsed.pattern.kind === 'exact' &&
    parsed.pattern.command === command
    ? rule
    : null;
}

/** A rule that allows every command or every file: only ever added when a person writes it. */
export function allowsEveryUse(rule: ParsedRule): boolean {
  return rule.pattern.kind === 'any' && (rule.tool === 'Bash' || PATH_TOOLS.has(rule.tool));
}

/** A path relative to the run's directory that stays inside it (`..foo` is a name, not a step up). */
function insideOf(rel: string): boolean {
  return rel !== '' && rel !== '..' && !rel.startsWith('../') && !path.posix.isAbsolute(rel);
}
