import { UsageError } from './errors.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `10s`, `5m`, `2h`, `7d` (or a bare number of seconds) into milliseconds. */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw badDuration(String(input));
    return Math.round(input * 1000);
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(input);
  if (!m?.[1]) throw badDuration(input);
  return Math.round(Number(m[1]) * (UNITS[m[2] ?? 's'] ?? 1000));
}

function badDuration(input: string): UsageError {
  return new UsageError(`"${input}" is not a duration: use e.g. 500ms, 30s, 5m, 2h or 7d`);
}
