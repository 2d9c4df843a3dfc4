import { TERMINAL_RUN_STATES } from '../domain/run.js';
import {
  DAY_MS,
  type DurationRow,
  durationPercentiles,
  type OutcomeRow,
  outcomesByDay,
  type QueueDepth,
  queueDepth,
} from '../store/stats.js';
import type { App } from './context.js';

export type Outcomes = Record<(typeof TERMINAL_RUN_STATES)[number], number>;

export interface SuccessRate extends Outcomes {
  /** Runs that ended in the window, in any terminal state. */
  ended: number;
  /**
   * succeeded / (succeeded + failed + timed_out + lost): how often an attempt
   * works. Cancelled runs are the user's choice and do not count. Null with
   * nothing to judge.
   */
  rate: number | null;
}

export interface BoardStats {
  /** Start of the window: UTC midnight `days - 1` days before today. */
  since: string;
  days: number;
  agent: string | null;
  queue: QueueDepth;
  success: { overall: SuccessRate; byAgent: ({ agent: string } & SuccessRate)[] };
  durations: DurationRow[];
  /** One entry per UTC day of the window, oldest first, by the day runs ended. */
  daily: ({ day: string } & Outcomes)[];
  cost: {
    day: string;
    agent: string;
    runs: number;
    costUsd: number;
    tokensIn: number;
    tokensOut: number;
  }[];
}

/** Success rate, duration percentiles, outcomes per day and cost, over the last `days` UTC days. */
export async function boardStats(
  app: App,
  o: { days: number; agent?: string },
): Promise<BoardStats> {
  const now = app.clock.now();
  const today = Math.floor(now / DAY_MS);
  const firstDay = today - o.days + 1;
  const since = firstDay * DAY_MS;
  const db = app.store.db;
  const [rows, durations, queue] = await Promise.all([
    outcomesByDay(db, since, o.agent),
    durationPercentiles(db, since, o.agent),
    queueDepth(db, now, o.agent),
  ]);

  const byAgent = new Map<string, OutcomeRow[]>();
  for (const r of rows) byAgent.set(r.agent, [...(byAgent.get(r.agent) ?? []), r]);
  const daily = new Map<number, Outcomes>();
  for (let d = firstDay; d <= today; d++) daily.set(d, zeroOutcomes());
  for (const r of rows) {
    const counts = daily.get(r.day);
    if (counts && isOutcome(r.state)) counts[r.state] += r.runs;
  }
  const cost = new Map<string, BoardStats['cost'][number]>();
  for (const r of rows) {
    const key = `${r.day}\u0000${r.agent}`;
    const c = cost.get(key) ?? {
      day: isoDay(r.day),
      agent: r.agent,
      runs: 0,
      costUsd: 0,
      tokensIn: 0,
      tokensOut: 0,
    };
    c.runs += r.runs;
    c.costUsd += r.costUsd;
    c.tokensIn += r.tokensIn;
    c.tokensOut += r.tokensOut;
    cost.set(key, c);
  }

  return {
    since: new Date(since).toISOString(),
    days: o.days,
    agent: o.agent ?? null,
    queue,
    success: {
      overall: successOf(rows),
      byAgent: [...byAgent.keys()].sort().map((agent) => ({
        agent,
        ...successOf(byAgent.get(agent) ?? []),
      })),
    },
    durations,
    daily: [...daily].map(([d, counts]) => ({ day: isoDay(d), ...counts })),
    cost: [...cost.values()].sort(
      (a, b) => a.day.localeCompare(b.day) || a.agent.localeCompare(b.agent),
    ),
  };
}

function successOf(rows: OutcomeRow[]): SuccessRate {
  const o = zeroOutcomes();
  for (const r of rows) if (isOutcome(r.state)) o[r.state] += r.runs;
  const judged = o.succeeded + o.failed + o.timed_out + o.lost;
  return {
    ...o,
    ended: judged + o.cancelled,
    rate: judged === 0 ? null : o.succeeded / judged,
  };
}

function zeroOutcomes(): Outcomes {
  return { succeeded: 0, failed: 0, timed_out: 0, cancelled: 0, lost: 0 };
}

function isOutcome(state: string): state is keyof Outcomes {
  return (TERMINAL_RUN_STATES as readonly string[]).includes(state);
}

function isoDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}
