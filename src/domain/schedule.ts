/**
 * Schedules, as pure functions: when a cron fires, which missed ticks a
 * catch-up policy fires, and what happens to a tick while the previous one
 * is still running. No I/O; the clock is a parameter.
 */
import { Cron } from 'croner';
import {
  CATCH_UP_POLICIES,
  type CatchUp,
  OVERLAP_POLICIES,
  type Overlap,
} from '../contract/vocabulary.js';
import { UsageError } from './errors.js';

export { CATCH_UP_POLICIES, type CatchUp, OVERLAP_POLICIES, type Overlap };

/**
 * How late the newest due tick may be and still count as on time rather than
 * missed: a timer firing late, or an engine busy for a moment, is not downtime.
 */
export const ON_TIME_GRACE_MS = 60_000;

/** At most this many missed ticks are fired in one catch-up (the newest ones). */
export const MAX_CATCH_UP_TICKS = 1000;

export interface CronSpec {
  cron: string;
  timezone: string | null;
}

/** Parses a standard 5-field cron expression, refusing it with a message that names it. */
export function parseCron(spec: CronSpec): Cron {
  const expr = spec.cron.trim();
  if (spec.timezone !== null) checkTimezone(spec.timezone);
  const fields = expr === '' ? 0 : expr.split(/\s+/).length;
  if (fields !== 5 && !expr.startsWith('@')) {
    throw badCron(spec.cron, `it has ${fields} field${fields === 1 ? '' : 's'}, not five`);
  }
  let cron: Cron;
  try {
    cron = new Cron(expr, {
      paused: true,
      mode: '5-part',
      ...(spec.timezone ? { timezone: spec.timezone } : {}),
    });
  } catch (e) {
    const reason = (e as Error).message.replace(/^Cron\w*: /, '').replace(/\.$/, '');
    throw badCron(spec.cron, reason.charAt(0).toLowerCase() + reason.slice(1));
  }
  if (cron.nextRun(new Date(0)) === null) {
    throw new UsageError(`cron expression "${spec.cron}" never fires: check the day and month`, {
      field: 'cron',
    });
  }
  return cron;
}

function badCron(cron: string, reason: string): UsageError {
  return new UsageError(
    `"${cron}" is not a valid cron expression (${reason}): use five fields "minute hour day-of-month month day-of-week", e.g. "0 9 * * 1-5"`,
    { field: 'cron' },
  );
}

export function checkTimezone(tz: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
  } catch {
    throw new UsageError(
      `"${tz}" is not a time zone: use an IANA name such as Europe/Paris or UTC`,
      { field: 'timezone' },
    );
  }
}

/** The first tick strictly after `after`, or null if the cron never fires again. */
export function nextTick(cron: Cron, after: number): number | null {
  const d = cron.nextRun(new Date(after));
  return d ? d.getTime() : null;
}

/** Ticks in (after, now], oldest first, keeping the newest `max` when there are more. */
export function dueTicks(cron: Cron, after: number, now: number, max = Infinity): number[] {
  const out: number[] = [];
  for (let t = nextTick(cron, after); t !== null && t <= now; t = nextTick(cron, t)) {
    out.push(t);
    if (out.length > max) out.shift();
  }
  return out;
}

export interface CatchUpRule {
  catchUp: CatchUp;
  windowMs: number;
}

export interface TickPlan {
  /** The ticks to fire now, oldest first. */
  fire: number[];
  /** The new cursor: every tick up to it has been dealt with (fired or dropped). */
  cursor: number;
}

/**
 * Which due ticks to fire. The newest due tick is on time when it is at most
 * ON_TIME_GRACE_MS late, and always fires; every other due tick was missed
 * (the engine was down) and follows the catch-up rule:
 * - `skip`: missed ticks are dropped;
 * - `latest`: when no tick is on time, the newest missed tick within the window fires;
 * - `all`: every missed tick within the window fires, oldest first.
 * "Within the window" means at most `windowMs` before `now`.
 */
export function planCatchUp(cron: Cron, cursor: number, now: number, rule: CatchUpRule): TickPlan {
  // Ticks older than the window (or the grace, for skip) are dropped whatever
  // happens: never enumerate them, however long the downtime.
  const keep =
    rule.catchUp === 'skip' ? ON_TIME_GRACE_MS : Math.max(rule.windowMs, ON_TIME_GRACE_MS);
  const from = Math.max(cursor, now - keep - 1);
  const due = dueTicks(cron, from, now, MAX_CATCH_UP_TICKS);
  const newest = due.at(-1);
  if (newest === undefined) {
    // Nothing due; the cursor still moves past the ticks that fell out of the window.
    return { fire: [], cursor: from };
  }
  const onTime = now - newest <= ON_TIME_GRACE_MS ? newest : undefined;
  const missed = (onTime === undefined ? due : due.slice(0, -1)).filter(
    (t) => now - t <= rule.windowMs,
  );
  let fire: number[];
  switch (rule.catchUp) {
    case 'skip':
      fire = onTime === undefined ? [] : [onTime];
      break;
    case 'latest': {
      const last = missed.at(-1);
      fire = onTime !== undefined ? [onTime] : last !== undefined ? [last] : [];
      break;
    }
    case 'all':
      fire = onTime === undefined ? missed : [...missed, onTime];
      break;
  }
  return { fire, cursor: newest };
}

export type TickAction = 'start' | 'skip' | 'wait';

export interface TickDecision {
  tick: number;
  action: TickAction;
  /** The tick already has a row (it was waiting); otherwise it is new. */
  waiting: boolean;
}

/**
 * What each tick does given the overlap policy and whether the schedule's
 * previous tick (or any run on its fixed task) is still active. Waiting ticks
 * go first, oldest first, then the new ones:
 * - `allow`: every tick starts;
 * - `skip`: a tick starts only when nothing is active, otherwise it is skipped;
 * - `queue`: a tick starts only when nothing is active, otherwise it waits its turn.
 */
export function planOverlap(
  overlap: Overlap,
  busy: boolean,
  waiting: readonly number[],
  fresh: readonly number[],
): TickDecision[] {
  const out: TickDecision[] = [];
  let active = busy;
  const ticks = [
    ...waiting.map((tick) => ({ tick, waiting: true })),
    ...fresh.map((tick) => ({ tick, waiting: false })),
  ];
  for (const { tick, waiting: w } of ticks) {
    let action: TickAction;
    if (overlap === 'allow' || !active) action = 'start';
    else action = overlap === 'queue' ? 'wait' : 'skip';
    // A waiting tick that must keep waiting has nothing to record.
    if (!(w && action === 'wait')) out.push({ tick, action, waiting: w });
    if (action === 'start') active = true;
  }
  return out;
}

export function parseCatchUp(input: string): CatchUp {
  const v = CATCH_UP_POLICIES.find((p) => p === input.trim().toLowerCase());
  if (!v) {
    throw new UsageError(
      `unknown catch-up policy "${input}": use ${CATCH_UP_POLICIES.join(', ')}`,
      { field: 'catchUp' },
    );
  }
  return v;
}

export function parseOverlap(input: string): Overlap {
  const v = OVERLAP_POLICIES.find((p) => p === input.trim().toLowerCase());
  if (!v) {
    throw new UsageError(`unknown overlap policy "${input}": use ${OVERLAP_POLICIES.join(', ')}`, {
      field: 'overlap',
    });
  }
  return v;
}

/** `S-3` or `3` → 3. */
export function parseScheduleId(input: string): number {
  const m = /^(?:S-?)?([1-9][0-9]{0,15})$/i.exec(input.trim());
  const n = m?.[1] ? Number(m[1]) : Number.NaN;
  if (!Number.isSafeInteger(n)) {
    throw new UsageError(`"${input}" is not a schedule id: it looks like S-3`, { field: 'id' });
  }
  return n;
}

export function formatScheduleId(id: number): string {
  return `S-${id}`;
}
