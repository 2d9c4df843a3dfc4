import fs from 'node:fs';
import { parseDuration } from '../domain/duration.js';
import { UsageError } from '../domain/errors.js';
import { parseTaskId } from '../domain/ids.js';

/** Commander collector for repeatable, comma-separable options (`--label a --label b,c`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

export function taskIds(values: string[] | undefined): number[] | undefined {
  return values?.map(parseTaskId);
}

export function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
      throw new UsageError(`${name} must be a whole number >= 1, got "${value}"`, { field: name });
    }
    return n;
  };
}

export function nonNegativeInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n)) {
      throw new UsageError(`${name} must be a whole number >= 0, got "${value}"`, { field: name });
    }
    return n;
  };
}

export function positiveNumber(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n <= 0) {
      throw new UsageError(`${name} must be a number > 0, got "${value}"`, { field: name });
    }
    return n;
  };
}

export function duration(value: string): number {
  return parseDuration(value);
}

/** Reads `--body-file`: a path, or `-` for standard input. */
export function readTextFile(file: string): string {
  try {
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${file}: ${(e as Error).message}`, { field: 'body-file' });
  }
}
