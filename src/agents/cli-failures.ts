/**
 * What every adapter reads the same way: session ids an agent reported, and
 * auth or usage failures a CLI states in its own words.
 */
import { ConfigError } from '../domain/errors.js';
import { plainLine } from '../domain/plain-text.js';
import type { ExitDiagnosis } from './adapter.js';
import type { ErrorCategory } from './events.js';

/** The session id format of most CLIs. */
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * A session id an agent reported goes into the next run's argv: anything but
 * the CLI's own id format (say `--dangerously-bypass-approvals-and-sandbox`)
 * is refused rather than passed.
 */
export function checkedSessionId(
  cli: string,
  id: string,
  format: { pattern: RegExp; name: string } = { pattern: UUID, name: 'a UUID' },
): string {
  if (!format.pattern.test(id))
    throw new ConfigError(
      `refusing to resume ${cli} session ${JSON.stringify(plainLine(id, 80))}: not a ${cli} session id (${format.name})`,
    );
  return id;
}

/** What an auth failure's message says: expired, or rejected. */
export function authCategory(status: number | undefined, message: string): ErrorCategory | null {
  if (/expired/i.test(message)) return status === undefined || status < 500 ? 'auth_expired' : null;
  if (status === 401 || status === 403) return 'auth';
  return null;
}

/** A stderr tail's lines, and a finder for the first one that matches. */
export function stderrLines(tail: string): {
  lines: string[];
  find: (re: RegExp) => string | undefined;
} {
  const lines = tail.split(/\r?\n/);
  return { lines, find: (re) => lines.find((l) => re.test(l)) };
}

/**
 * What the CLIs print on stderr when they refuse their command line or a key,
 * in their own words (opencode, Copilot CLI, Qwen Code).
 */
export function commonExitDiagnosis(exit: {
  code: number | null;
  stderrTail: string;
}): ExitDiagnosis | null {
  if (exit.code === 0) return null;
  const { lines, find } = stderrLines(exit.stderrTail);
  const usage = find(
    /unknown (?:argument|option)s?|unexpected argument|invalid (?:option|argument)|not enough arguments/i,
  );
  if (usage || exit.code === 2)
    return {
      category: 'usage',
      message: plainLine(usage ?? lines.filter(Boolean).at(-1) ?? `exit ${exit.code}`),
    };
  const expired = find(
    /(?:key|token|credential|login|session)\b.*\bexpired|expired.*(?:key|token)/i,
  );
  if (expired) return { category: 'auth_expired', message: plainLine(expired) };
  const rejected = find(
    /invalid api key|incorrect api key|invalid x-api-key|unauthori[sz]ed|authentication failed|\b401\b|\b403\b/i,
  );
  if (rejected) return { category: 'auth', message: plainLine(rejected) };
  return null;
}
