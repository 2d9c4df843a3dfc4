/**
 * The board's markdown subset as a small typed tree: headings, paragraphs,
 * lists (with task boxes), quotes, fenced code and rules; inline code, bold,
 * italics, links, task links (T-12) and @mentions. Pure (the component,
 * Markdown.tsx, draws the tree); unit-tested under Node. Text never becomes
 * HTML, and every scan is linear in the input, so a hostile task body can
 * neither inject markup nor freeze the page.
 */

export type Inline =
  | { kind: 'text'; text: string }
  | { kind: 'code'; text: string }
  | { kind: 'bold'; children: Inline[] }
  | { kind: 'italic'; children: Inline[] }
  /** An external link: `[text](href)` with an allowed href, or a bare http(s) URL. */
  | { kind: 'link'; href: string; text: string }
  /** A link to a task of this board, e.g. `T-12`. */
  | { kind: 'task'; id: string }
  /** `@name`, without the `@`. */
  | { kind: 'mention'; name: string };

export interface ListItem {
  /** Set for a task item (`- [x] done`), undefined for a plain one. */
  checked?: boolean;
  children: Inline[];
}

export type Block =
  /** `level` is the number of `#` (1-6); the component decides which tag that is. */
  | { kind: 'heading'; level: number; children: Inline[] }
  | { kind: 'paragraph'; children: Inline[] }
  | { kind: 'list'; ordered: boolean; items: ListItem[] }
  | { kind: 'quote'; children: Block[] }
  | { kind: 'code'; text: string }
  | { kind: 'rule' };

/** Deeper `>` stays text: each level re-reads its lines, and the stack is finite. */
export const MAX_QUOTE_DEPTH = 16;

// The `s` flag lets `.` cross U+2028/U+2029 too, so every line a block start
// recognises is one the paragraph scan stops at (and the other way round).
const FENCE = /^\s*(```|~~~)/;
const HEADING = /^(#{1,6})\s+(.*)$/s;
const LIST_ITEM = /^\s*([-*+]|\d+[.)])\s+/;
const QUOTE = /^\s*>/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
const TASK_ITEM = /^\[( |x|X)\]\s+(.*)$/s;

export function parseMarkdown(text: string): Block[] {
  return blocks(text.replace(/\r\n?/g, '\n').split('\n'), 0);
}

function startsBlock(line: string, depth: number): boolean {
  return (
    HEADING.test(line) ||
    FENCE.test(line) ||
    (depth < MAX_QUOTE_DEPTH && QUOTE.test(line)) ||
    LIST_ITEM.test(line)
  );
}

function blocks(lines: string[], depth: number): Block[] {
  const out: Block[] = [];
  let i = 0;
  const at = (n: number) => lines[n] ?? '';
  while (i < lines.length) {
    const line = at(i);
    const fence = FENCE.exec(line);
    if (fence) {
      // An unclosed fence runs to the end of the text.
      const close = fence[1] ?? '```';
      const code: string[] = [];
      i++;
      while (i < lines.length && !at(i).trim().startsWith(close)) code.push(at(i++));
      i++;
      out.push({ kind: 'code', text: code.join('\n') });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = (heading[1] ?? '#').length;
      out.push({ kind: 'heading', level, children: parseInline(heading[2] ?? '') });
      i++;
      continue;
    }
    if (LIST_ITEM.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items: ListItem[] = [];
      while (i < lines.length && LIST_ITEM.test(at(i))) {
        items.push(listItem(at(i).replace(LIST_ITEM, '')));
        i++;
      }
      out.push({ kind: 'list', ordered, items });
      continue;
    }
    if (depth < MAX_QUOTE_DEPTH && QUOTE.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && QUOTE.test(at(i))) quoted.push(at(i++).replace(/^\s*>\s?/, ''));
      out.push({ kind: 'quote', children: blocks(quoted, depth + 1) });
      continue;
    }
    if (RULE.test(line)) {
      out.push({ kind: 'rule' });
      i++;
      continue;
    }
    if (!line.trim()) {
      i++;
      continue;
    }
    const para = [line];
    i++;
    while (i < lines.length && at(i).trim() && !startsBlock(at(i), depth)) para.push(at(i++));
    out.push({ kind: 'paragraph', children: parseInline(para.join('\n')) });
  }
  return out;
}

function listItem(item: string): ListItem {
  const task = TASK_ITEM.exec(item);
  if (!task) return { children: parseInline(item) };
  return { checked: task[1] !== ' ', children: parseInline(task[2] ?? '') };
}

/** Only http(s) and board-relative links are followed. */
export function safeHref(href: string): string | null {
  if (/^https?:\/\//i.test(href)) return href;
  if (href.startsWith('/') && !href.startsWith('//')) return href;
  return null;
}

interface Match {
  node: Inline;
  end: number;
}

/**
 * Inline spans, leftmost first, in this order of preference where two start at
 * the same place: `code`, **bold**, *italic* or _italic_, [text](href), bare
 * http(s) URLs, @mentions, T-12. None spans a line break. A hand-written scan
 * rather than one regular expression, because the regex retried the
 * `[text](href)` look-ahead from every `[`: quadratic on a line of brackets.
 */
export function parseInline(text: string): Inline[] {
  const out: Inline[] = [];
  const addText = (s: string) => {
    if (!s) return;
    const prev = out[out.length - 1];
    if (prev?.kind === 'text') prev.text += s;
    else out.push({ kind: 'text', text: s });
  };
  const scan = new Scanner(text);
  let last = 0;
  let i = 0;
  while (i < text.length) {
    const m = scan.matchAt(i);
    if (!m) {
      i++;
      continue;
    }
    addText(text.slice(last, i));
    if (m.node.kind === 'text') addText(m.node.text);
    else out.push(m.node);
    i = last = m.end;
  }
  addText(text.slice(last));
  return out;
}

const isWord = (c: string | undefined) => c !== undefined && /[A-Za-z0-9_]/.test(c);
const isDigit = (c: string | undefined) => c !== undefined && c >= '0' && c <= '9';
const MENTION = /@[a-z][a-z0-9_-]{0,39}/y;

/**
 * Where the next stop character (or line break) lies, remembered: every start
 * between the last scan's start and its stop finds the same stop, so a line of
 * `[[[[` is scanned once, not once per `[`.
 */
class StopFinder {
  private from = -1;
  private at = -1;
  private readonly text: string;
  private readonly stop: (c: string) => boolean;

  constructor(text: string, stop: (c: string) => boolean) {
    this.text = text;
    this.stop = stop;
  }

  /** The first index at or after `from` holding a stop or a line break (text.length if none). */
  find(from: number): number {
    if (from >= this.from && from <= this.at) return this.at;
    const t = this.text;
    let j = from;
    while (j < t.length && t[j] !== '\n' && !this.stop(t[j] as string)) j++;
    this.from = from;
    this.at = j;
    return j;
  }
}

class Scanner {
  private readonly text: string;
  private readonly finders: Record<string, StopFinder>;
  private readonly closeBracket: StopFinder;
  private readonly closeParen: StopFinder;

  constructor(text: string) {
    this.text = text;
    this.finders = {
      '`': new StopFinder(text, (c) => c === '`'),
      '*': new StopFinder(text, (c) => c === '*'),
      _: new StopFinder(text, (c) => c === '_'),
    };
    this.closeBracket = new StopFinder(text, (c) => c === ']');
    this.closeParen = new StopFinder(text, (c) => c === ')' || /\s/.test(c));
  }

  private delimited(i: number, open: number, mark: string): number | null {
    const close = (this.finders[mark] as StopFinder).find(i + open);
    return close > i + open && this.text.startsWith(mark.repeat(open), close) ? close : null;
  }

  matchAt(i: number): Match | null {
    const t = this.text;
    switch (t[i]) {
      case '`': {
        const close = this.delimited(i, 1, '`');
        return close === null
          ? null
          : { node: { kind: 'code', text: t.slice(i + 1, close) }, end: close + 1 };
      }
      case '*': {
        if (t[i + 1] === '*') {
          const close = this.delimited(i, 2, '*');
          if (close !== null) {
            return {
              node: { kind: 'bold', children: parseInline(t.slice(i + 2, close)) },
              end: close + 2,
            };
          }
        }
        return this.italic(i, '*');
      }
      case '_':
        return this.italic(i, '_');
      case '[':
        return this.link(i);
      case 'h':
        return this.url(i);
      case '@': {
        MENTION.lastIndex = i;
        const m = MENTION.exec(t);
        return m ? { node: { kind: 'mention', name: m[0].slice(1) }, end: i + m[0].length } : null;
      }
      case 'T':
        return this.taskRef(i);
      default:
        return null;
    }
  }

  private italic(i: number, mark: string): Match | null {
    const close = this.delimited(i, 1, mark);
    if (close === null) return null;
    return {
      node: { kind: 'italic', children: parseInline(this.text.slice(i + 1, close)) },
      end: close + 1,
    };
  }

  private link(i: number): Match | null {
    const t = this.text;
    const close = this.closeBracket.find(i + 1);
    if (close <= i + 1 || t[close] !== ']' || t[close + 1] !== '(') return null;
    const paren = this.closeParen.find(close + 2);
    if (paren <= close + 2 || t[paren] !== ')') return null;
    const href = safeHref(t.slice(close + 2, paren));
    const node: Inline = href
      ? { kind: 'link', href, text: t.slice(i + 1, close) }
      : { kind: 'text', text: t.slice(i, paren + 1) };
    return { node, end: paren + 1 };
  }

  private url(i: number): Match | null {
    const t = this.text;
    const start = t.startsWith('https://', i) ? i + 8 : t.startsWith('http://', i) ? i + 7 : -1;
    if (start < 0) return null;
    let j = start;
    while (j < t.length && !/[\s<>()]/.test(t[j] as string)) j++;
    if (j === start) return null;
    const href = t.slice(i, j);
    return { node: { kind: 'link', href, text: href }, end: j };
  }

  private taskRef(i: number): Match | null {
    const t = this.text;
    if (isWord(t[i - 1]) || t[i + 1] !== '-') return null;
    let j = i + 2;
    while (isDigit(t[j])) j++;
    if (j === i + 2 || isWord(t[j])) return null;
    return { node: { kind: 'task', id: t.slice(i, j) }, end: j };
  }
}
