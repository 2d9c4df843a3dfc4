/**
 * Everything the CLI writes goes through here, and through the board's one
 * redactor (the same as the API's, SSE's, MCP's and the server log's): known
 * secrets and credential shapes are masked in human and `--json` output alike,
 * on stdout and stderr. Commands never write to process.stdout themselves.
 */
import { createRedactor, type Redactor } from '../domain/redact.js';

/**
 * Until a command opens the board, only credential shapes are known; opening
 * it (`withApp`) installs the board's redactor, which stays for the rest of
 * the process: some commands print after the board is closed.
 */
let redactor: Redactor = createRedactor([]);

/** Installs the board's redactor for every later write (see `withApp`). */
export function redactOutputWith(r: Redactor): void {
  redactor = r;
}

/** The redactor output passes through now. */
export function outputRedactor(): Redactor {
  return redactor;
}

/** Terminal output: colour only on a TTY and never when NO_COLOR is set (https://no-color.org). */
export function useColor(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR) return true;
  return stream.isTTY === true;
}

const CODES = {
  bold: [1, 22],
  dim: [2, 22],
  red: [31, 39],
  green: [32, 39],
  yellow: [33, 39],
  blue: [34, 39],
  magenta: [35, 39],
  cyan: [36, 39],
  gray: [90, 39],
} as const;

export type Style = keyof typeof CODES;

export function paint(enabled: boolean) {
  return (style: Style, text: string): string => {
    if (!enabled) return text;
    const [on, off] = CODES[style];
    return `\u001b[${on}m${text}\u001b[${off}m`;
  };
}

/**
 * A reader that stops early (`agentboard runs | head -1`, `logs … | head`)
 * closes the pipe, and the next write to stdout fails with EPIPE. That is the
 * reader saying it has had enough, not a failure: end at once, quietly and
 * with 0, as a shell pipeline expects (Node ignores SIGPIPE, so without this
 * the error is an unhandled 'error' event and a stack trace). Installed once
 * for every command by the entry point. Other errors on stdout stay errors.
 */
export function endQuietlyWhenStdoutCloses(stdout: NodeJS.WriteStream = process.stdout): void {
  stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
}

/**
 * Writes text to stdout (or `stream`), redacted. The text is masked as a whole:
 * a secret must reach here in one piece, so formatters that cut text use
 * `truncate`, which masks before it cuts.
 */
export function print(text: string, stream: NodeJS.WritableStream = process.stdout): void {
  stream.write(redactor.text(text));
}

/** JSON on stdout: every string redacted, then the text again (a value may hide in a key). */
export function printJson(value: unknown): void {
  print(`${JSON.stringify(redactor.value(value), null, 2)}\n`);
}

export function println(line = ''): void {
  print(`${line}\n`);
}

/** One line on stderr, redacted. */
export function printErr(line: string): void {
  print(`${line}\n`, process.stderr);
}

/**
 * Cuts a string to `width` display columns (approximately: code points), with
 * an ellipsis. Masks first: a cut secret would no longer be recognised, and
 * its first characters would be shown.
 */
export function truncate(s: string, width: number): string {
  const chars = [...redactor.text(s).replace(/\s+/g, ' ')];
  return chars.length <= width
    ? chars.join('')
    : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}
