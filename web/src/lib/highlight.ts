/**
 * A small syntax colourer for the Review tab's diff: keywords, strings,
 * comments and numbers of common languages, line by line (a block comment's
 * state carries to the next line). Not a parser: it only has to look right
 * for ordinary code. Pure: no DOM, no React (unit-tested under Node).
 */

export type TokenKind = 'plain' | 'keyword' | 'string' | 'comment' | 'number';

export interface Token {
  kind: TokenKind;
  text: string;
}

export interface Lang {
  name: string;
  keywords: ReadonlySet<string>;
  lineComments: readonly string[];
  block: readonly [string, string] | null;
  quotes: string;
}

const words = (s: string): ReadonlySet<string> => new Set(s.split(/\s+/).filter(Boolean));

const JS = words(`
  abstract as async await break case catch class const constructor continue debugger declare default
  delete do else enum export extends false finally for from function get if implements import in
  instanceof interface keyof let new null of private protected public readonly return satisfies set
  static super switch this throw true try type typeof undefined var void while with yield`);
const PY = words(`
  False None True and as assert async await break class continue def del elif else except finally for
  from global if import in is lambda nonlocal not or pass raise return self try while with yield`);
const GO = words(`
  break case chan const continue default defer else fallthrough false for func go goto if import
  interface map nil package range return select struct switch true type var`);
const RUST = words(`
  as async await break const continue crate dyn else enum extern false fn for if impl in let loop match
  mod move mut pub ref return self Self static struct super trait true type unsafe use where while`);
const C_LIKE = words(`
  auto bool break case catch char class const continue default delete do double else enum extern false
  final float for goto if implements import int interface long namespace new null nullptr package
  private protected public return short signed sizeof static struct super switch template this throw
  true try typedef union unsigned using var virtual void volatile while`);
const SH = words(`
  case do done elif else esac export fi for function if in local readonly return select set then
  until while`);
const RUBY = words(`
  begin break case class def defined? do else elsif end ensure false for if in module next nil not or
  redo rescue retry return self super then true undef unless until when while yield`);
const SQL = words(`
  add alter and as asc by create delete desc distinct drop from group having in index insert into is
  join key left limit not null on or order primary references select set table union update values
  where with`);
const CSS = words('important media import supports keyframes');

const lang = (
  name: string,
  keywords: ReadonlySet<string>,
  lineComments: string[],
  block: [string, string] | null,
  quotes = `"'`,
): Lang => ({ name, keywords, lineComments, block, quotes });

const LANGS: Record<string, Lang> = {
  js: lang('javascript', JS, ['//'], ['/*', '*/'], '"\'`'),
  py: lang('python', PY, ['#'], null),
  go: lang('go', GO, ['//'], ['/*', '*/'], '"\'`'),
  rs: lang('rust', RUST, ['//'], ['/*', '*/'], '"'),
  c: lang('c', C_LIKE, ['//'], ['/*', '*/']),
  sh: lang('shell', SH, ['#'], null),
  rb: lang('ruby', RUBY, ['#'], null),
  sql: lang('sql', SQL, ['--'], ['/*', '*/']),
  css: lang('css', CSS, [], ['/*', '*/']),
  json: lang('json', words('true false null'), [], null, '"'),
  yaml: lang('yaml', words('true false null yes no'), ['#'], null),
  toml: lang('toml', words('true false'), ['#'], null),
};

const EXTENSIONS: Record<string, keyof typeof LANGS> = {
  js: 'js',
  jsx: 'js',
  mjs: 'js',
  cjs: 'js',
  ts: 'js',
  tsx: 'js',
  mts: 'js',
  cts: 'js',
  py: 'py',
  go: 'go',
  rs: 'rs',
  c: 'c',
  h: 'c',
  cc: 'c',
  cpp: 'c',
  hpp: 'c',
  java: 'c',
  kt: 'c',
  cs: 'c',
  swift: 'c',
  sh: 'sh',
  bash: 'sh',
  zsh: 'sh',
  rb: 'rb',
  sql: 'sql',
  css: 'css',
  scss: 'css',
  json: 'json',
  yaml: 'yaml',
  yml: 'yaml',
  toml: 'toml',
};

/** The language of a file, by its extension (or name); null when this colourer does not know it. */
export function languageFor(path: string): Lang | null {
  const base = path.split('/').pop() ?? path;
  if (base === 'Dockerfile' || base === 'Makefile') return LANGS.sh ?? null;
  const dot = base.lastIndexOf('.');
  if (dot < 0) return null;
  const key = EXTENSIONS[base.slice(dot + 1).toLowerCase()];
  return key ? (LANGS[key] ?? null) : null;
}

/** Carried from one line to the next: inside a block comment. */
export interface HighlightState {
  inBlock: boolean;
}

const WORD = /[A-Za-z_$][\w$?]*/y;
const NUMBER =
  /(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|\d[\d_]*(?:\.\d[\d_]*)?(?:[eE][+-]?\d+)?)[a-zA-Z]*/y;

/** One line's tokens; their texts joined are the line, always. */
export function highlightLine(
  text: string,
  l: Lang | null,
  state: HighlightState = { inBlock: false },
): { tokens: Token[]; state: HighlightState } {
  if (!l) return { tokens: text ? [{ kind: 'plain', text }] : [], state };
  const tokens: Token[] = [];
  const push = (kind: TokenKind, t: string) => {
    if (!t) return;
    const prev = tokens[tokens.length - 1];
    if (prev && prev.kind === kind) prev.text += t;
    else tokens.push({ kind, text: t });
  };
  let inBlock = state.inBlock;
  let i = 0;
  while (i < text.length) {
    if (inBlock && l.block) {
      const end = text.indexOf(l.block[1], i);
      const stop = end < 0 ? text.length : end + l.block[1].length;
      push('comment', text.slice(i, stop));
      i = stop;
      if (end >= 0) inBlock = false;
      continue;
    }
    const rest = text.slice(i);
    if (l.block && rest.startsWith(l.block[0])) {
      push('comment', l.block[0]);
      i += l.block[0].length;
      inBlock = true;
      continue;
    }
    if (l.lineComments.some((c) => rest.startsWith(c) && startsComment(text, i, l))) {
      push('comment', rest);
      break;
    }
    const c = text[i] ?? '';
    if (l.quotes.includes(c)) {
      const end = stringEnd(text, i, c);
      push('string', text.slice(i, end));
      i = end;
      continue;
    }
    const prev = text[i - 1] ?? '';
    if (/[0-9]/.test(c) && !/[\w$]/.test(prev)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (m) {
        push('number', m[0]);
        i += m[0].length;
        continue;
      }
    }
    WORD.lastIndex = i;
    const w = /[A-Za-z_$]/.test(c) ? WORD.exec(text) : null;
    if (w) {
      const kw = l.keywords.has(w[0]) || (l.name === 'sql' && l.keywords.has(w[0].toLowerCase()));
      push(kw ? 'keyword' : 'plain', w[0]);
      i += w[0].length;
      continue;
    }
    push('plain', c);
    i++;
  }
  return { tokens, state: { inBlock } };
}

/** A `#` in a shell word (`a#b`, `$#`) starts no comment; elsewhere a comment marker does. */
function startsComment(text: string, i: number, l: Lang): boolean {
  if (l.name !== 'shell') return true;
  return i === 0 || /\s/.test(text[i - 1] ?? '');
}

/** Where the string opened at `start` ends (after its closing quote), or the line's end. */
function stringEnd(text: string, start: number, quote: string): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === quote) return i + 1;
  }
  return text.length;
}

/** Several lines in order, the block-comment state carried from each to the next. */
export function highlightLines(lines: readonly string[], l: Lang | null): Token[][] {
  let state: HighlightState = { inBlock: false };
  return lines.map((line) => {
    const r = highlightLine(line, l, state);
    state = r.state;
    return r.tokens;
  });
}
