import { type Kysely, sql } from 'kysely';
import type { RunState } from '../domain/run.js';
import type { DB } from './schema.js';

/**
 * Aggregates for /metrics and /api/v1/stats. Portable across SQLite and
 * PostgreSQL: times are epoch-ms integers, so a UTC day is `t / 86400000`
 * (integer division in both), and percentiles use window functions rather
 * than PostgreSQL's percentile_cont.
 */

export const DAY_MS = 86_400_000;

/** Ended runs whose duration says how long the agent took (cancelled and lost ones do not). */
const TIMED_STATES = ['succeeded', 'failed', 'timed_out'];

/** Runs per state, over the whole table. */
export async function countRunsByState(db: Kysely<DB>): Promise<Map<string, number>> {
  const rows = await db
    .selectFrom('runs')
    .select(['state', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return new Map(rows.map((r) => [r.state, Number(r.n)]));
}

export interface QueueDepth {
  /** Every queued run, due or not. */
  queued: number;
  /** Queued, due, and not waiting on an unfinished dependency: only capacity holds them. */
  runnable: number;
}

export async function queueDepth(db: Kysely<DB>, now: number, agent?: string): Promise<QueueDepth> {
  let q = db
    .selectFrom('runs as r')
    .select((eb) => [
      eb.fn.countAll<number>().as('queued'),
      eb.fn
        .sum<number>(
          eb
            .case()
            .when(
              eb.and([
                eb('r.run_at', '<=', now),
                eb.not(
                  eb.exists(
                    eb
                      .selectFrom('task_dependencies as d')
                      .innerJoin('tasks as t', 't.id', 'd.depends_on_id')
                      .select(sql<number>`1`.as('one'))
                      .whereRef('d.task_id', '=', 'r.task_id')
                      .where('t.status', '!=', 'done'),
                  ),
                ),
              ]),
            )
            .then(sql.lit(1))
            .else(sql.lit(0))
            .end(),
        )
        .as('runnable'),
    ])
    .where('r.state', '=', 'queued');
  if (agent !== undefined) q = q.where('r.agent', '=', agent);
  const r = await q.executeTakeFirst();
  return { queued: Number(r?.queued ?? 0), runnable: Number(r?.runnable ?? 0) };
}

export interface OutcomeRow {
  /** Days since the epoch (UTC). */
  day: number;
  agent: string;
  state: RunState;
  runs: number;
  costUsd: number;
  tokensIn: number;
  tokensOut: number;
}

/** Ended runs since `since`, counted and costed per UTC day of their end, agent and final state. */
export async function outcomesByDay(
  db: Kysely<DB>,
  since: number,
  agent?: string,
): Promise<OutcomeRow[]> {
  const day = sql<number>`ended_at / ${sql.lit(DAY_MS)}`;
  let q = db
    .selectFrom('runs')
    .select((eb) => [
      day.as('day'),
      'agent',
      'state',
      eb.fn.countAll<number>().as('runs'),
      eb.fn.sum<number>('cost_usd').as('cost_usd'),
      eb.fn.sum<number>('tokens_in').as('tokens_in'),
      eb.fn.sum<number>('tokens_out').as('tokens_out'),
    ])
    .where('ended_at', '>=', since);
  if (agent !== undefined) q = q.where('agent', '=', agent);
  const rows = await q.groupBy([day, 'agent', 'state']).execute();
  return rows.map((r) => ({
    day: Number(r.day),
    agent: r.agent,
    state: r.state,
    runs: Number(r.runs),
    costUsd: Number(r.cost_usd ?? 0),
    tokensIn: Number(r.tokens_in ?? 0),
    tokensOut: Number(r.tokens_out ?? 0),
  }));
}

export interface DurationRow {
  agent: string;
  runs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
}

/**
 * Nearest-rank duration percentiles per agent over runs that ran to an exit
 * since `since`: the p-th percentile is the ceil(p·n)-th shortest.
 */
export async function durationPercentiles(
  db: Kysely<DB>,
  since: number,
  agent?: string,
): Promise<DurationRow[]> {
  const onlyAgent = agent === undefined ? sql`` : sql`and agent = ${agent}`;
  const states = sql.join(TIMED_STATES.map((s) => sql.lit(s)));
  const r = await sql<{ agent: string; n: number; p50: number; p90: number; p99: number }>`
    with d as (
      select agent, ended_at - started_at as ms,
        row_number() over (partition by agent order by ended_at - started_at) as rn,
        count(*) over (partition by agent) as n
      from runs
      where state in (${states}) and started_at is not null and ended_at >= ${since} ${onlyAgent}
    )
    select agent, n,
      max(case when rn = (n + 1) / 2 then ms end) as p50,
      max(case when rn = (9 * n + 9) / 10 then ms end) as p90,
      max(case when rn = (99 * n + 99) / 100 then ms end) as p99
    from d
    group by agent, n
    order by agent`.execute(db);
  return r.rows.map((x) => ({
    agent: x.agent,
    runs: Number(x.n),
    p50Ms: Number(x.p50),
    p90Ms: Number(x.p90),
    p99Ms: Number(x.p99),
  }));
}
