/**
 * Agent output made fit for prose: an error summary, a reason on a card, a
 * commit message. Terminals interpret escape codes; a card does not.
 */

// CSI sequences (colours, cursor moves), OSC sequences (titles, links), and two-byte escapes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape codes is the point
const ESCAPES = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: other control characters but tab and newline
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f]/g;
/** A stack frame line: "at fn (file.js:1:2)", "at file.js:1:2 {", "at async Promise.all (index 0)". */
const STACK_FRAME = /^at\s+\S.*(?::\d+(?::\d+)?\)?|\([^)]*\))(?:\s*\{)?$/;

export function stripAnsi(text: string): string {
  return text.replace(ESCAPES, '').replace(CONTROLS, '');
}

/**
 * One line of plain text: escape codes and stack frames removed, whitespace
 * collapsed, cut at `max` characters.
 */
export function plainLine(text: string, max = 300): string {
  const lines = stripAnsi(text)
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !STACK_FRAME.test(l));
  const one = lines.join(' ').replace(/\s+/g, ' ');
  return one.length > max ? `${one.slice(0, max - 1)}…` : one;
}

/**
 * Several lines of plain text (a stderr tail): escape codes, stack frames and
 * the indented object dump Node prints after a stack (`{ [cause]: … }`) removed.
 */
export function plainTail(text: string): string {
  const out: string[] = [];
  let inTrace = false;
  for (const line of stripAnsi(text).split(/\r?\n/)) {
    const t = line.trim();
    if (STACK_FRAME.test(t)) {
      inTrace = true;
      continue;
    }
    if (inTrace && (/^\s/.test(line) || t === '}' || t === '')) continue;
    inTrace = false;
    out.push(line);
  }
  return out.join('\n').trim();
}
