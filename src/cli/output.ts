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

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function println(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** Cuts a string to `width` display columns (approximately: code points), with an ellipsis. */
export function truncate(s: string, width: number): string {
  const chars = [...s.replace(/\s+/g, ' ')];
  return chars.length <= width
    ? chars.join('')
    : `${chars.slice(0, Math.max(0, width - 1)).join('')}…`;
}
