/**
 * Terminal output as styled segments: SGR colour codes (ESC[...m) become a
 * style, every other escape is dropped. Pure (the component, Ansi.tsx, draws
 * the segments); unit-tested under Node.
 */

const BASIC = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];

export interface AnsiStyle {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}
type Style = AnsiStyle;

function colour256(n: number): string {
  if (n < 8) return `var(--ansi-${BASIC[n]})`;
  if (n < 16) return `var(--ansi-bright-${BASIC[n - 8]})`;
  if (n < 232) {
    const c = n - 16;
    const v = (x: number) => (x === 0 ? 0 : 55 + x * 40);
    return `rgb(${v(Math.floor(c / 36))},${v(Math.floor(c / 6) % 6)},${v(c % 6)})`;
  }
  const g = 8 + (n - 232) * 10;
  return `rgb(${g},${g},${g})`;
}

function apply(style: Style, codes: number[]): Style {
  let s = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i] ?? 0;
    if (c === 0) s = {};
    else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 22) {
      s.bold = false;
      s.dim = false;
    } else if (c === 23) s.italic = false;
    else if (c === 24) s.underline = false;
    else if (c >= 30 && c <= 37) s.fg = `var(--ansi-${BASIC[c - 30]})`;
    else if (c >= 90 && c <= 97) s.fg = `var(--ansi-bright-${BASIC[c - 90]})`;
    else if (c >= 40 && c <= 47) s.bg = `var(--ansi-${BASIC[c - 40]})`;
    else if (c >= 100 && c <= 107) s.bg = `var(--ansi-bright-${BASIC[c - 100]})`;
    else if (c === 39) s.fg = undefined;
    else if (c === 49) s.bg = undefined;
    else if ((c === 38 || c === 48) && codes[i + 1] === 5) {
      const col = colour256(codes[i + 2] ?? 0);
      if (c === 38) s.fg = col;
      else s.bg = col;
      i += 2;
    } else if ((c === 38 || c === 48) && codes[i + 1] === 2) {
      const col = `rgb(${codes[i + 2] ?? 0},${codes[i + 3] ?? 0},${codes[i + 4] ?? 0})`;
      if (c === 38) s.fg = col;
      else s.bg = col;
      i += 4;
    }
  }
  return s;
}

const ESC = String.fromCharCode(27);
const BEL = String.fromCharCode(7);
/** CSI sequences (colours among them), OSC titles and charset switches; and carriage returns. */
const ESCAPES = new RegExp(
  `${ESC}\\[([0-9;]*)([A-Za-z])|${ESC}\\][^${BEL}${ESC}]*(?:${BEL}|${ESC}\\\\)|${ESC}[()][A-Za-z0-9]|\\r`,
  'g',
);

/** A run of text in one style. */
export interface AnsiSegment {
  text: string;
  style: AnsiStyle;
}

/** One line of terminal output; `start` is the style carried over from earlier lines. */
export function ansiSegments(
  line: string,
  start: Style = {},
): { segments: AnsiSegment[]; end: Style } {
  const segments: AnsiSegment[] = [];
  let style = start;
  let last = 0;
  const push = (text: string) => {
    if (text) segments.push({ text, style });
  };
  for (const m of line.matchAll(ESCAPES)) {
    push(line.slice(last, m.index));
    if (m[2] === 'm') {
      style = apply(
        style,
        (m[1] || '0').split(';').map((x) => Number(x) || 0),
      );
    }
    last = (m.index ?? 0) + m[0].length;
  }
  push(line.slice(last));
  return { segments, end: style };
}

/** Whether a style draws text as it is. */
export function isPlain(s: AnsiStyle): boolean {
  return !s.fg && !s.bg && !s.bold && !s.dim && !s.italic && !s.underline;
}
