import { UsageError } from './errors.js';

const TASK_ID = /^T-([1-9][0-9]{0,15})$/i;

export function formatTaskId(n: number): string {
  return `T-${n}`;
}

/** Parses `T-12` (or `t-12`, or a bare `12`) into its number. */
export function parseTaskId(input: string): number {
  const trimmed = input.trim();
  const m = TASK_ID.exec(trimmed) ?? /^([1-9][0-9]{0,15})$/.exec(trimmed);
  // 16 digits can exceed 2^53: such a number would silently name another task.
  if (!m?.[1] || !Number.isSafeInteger(Number(m[1]))) {
    throw new UsageError(`"${input}" is not a task id: use the form T-42`, { field: 'id' });
  }
  return Number(m[1]);
}

export function isTaskId(input: string): boolean {
  return TASK_ID.test(input.trim());
}

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';

/**
 * Run ids sort by creation time: `r` + 10 chars of millisecond time + 12 of
 * randomness (ULID layout, lower case). Monotonic within one millisecond so
 * ids made by one process never sort out of order.
 */
export function createRunIdFactory(now: () => number, random: () => number = Math.random) {
  let lastTime = -1;
  let lastRand: number[] = [];
  return (): string => {
    let t = now();
    if (t <= lastTime) {
      // Same millisecond (or the clock stepped back): count up. If the random
      // part wraps around, borrow the next millisecond so order still holds.
      if (!increment(lastRand)) lastTime++;
      t = lastTime;
    } else {
      lastTime = t;
      lastRand = Array.from({ length: 12 }, () => Math.floor(random() * 32));
    }
    let time = '';
    for (let i = 0; i < 10; i++) {
      time = CROCKFORD[t % 32] + time;
      t = Math.floor(t / 32);
    }
    return `r${time}${lastRand.map((d) => CROCKFORD[d]).join('')}`;
  };
}

/** Adds one to a base-32 number; false when it wrapped around to all zeros. */
function increment(digits: number[]): boolean {
  for (let i = digits.length - 1; i >= 0; i--) {
    const d = digits[i] ?? 0;
    if (d < 31) {
      digits[i] = d + 1;
      return true;
    }
    digits[i] = 0;
  }
  return false;
}

const RUN_ID = /^r[0-9a-hjkmnp-tv-z]{22}$/;

export function isRunId(input: string): boolean {
  return RUN_ID.test(input);
}
