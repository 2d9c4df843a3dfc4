import type { Kysely } from 'kysely';
import type { RunState } from '../domain/run.js';
import type { DB } from './schema.js';

/** What a board card shows about a task's runs: the latest one, how many, what they cost. */
export interface CardRuns {
  taskId: number;
  runs: number;
  costUsd: number;
  latest: {
    id: string;
    state: RunState;
    agent: string;
    attempt: number;
    maxAttempts: number;
    iteration: number;
    startedAt: number | null;
    endedAt: number | null;
    lastOutputAt: number | null;
    exitCode: number | null;
    errorSummary: string | null;
    stalled: boolean;
    notice: string | null;
    denials: number;
    leaseExpiresAt: number | null;
  } | null;
}

const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/** The run summary of each task in `taskIds` (two queries, whatever the number of runs). */
export async function cardRuns(db: Kysely<DB>, taskIds: number[]): Promise<CardRuns[]> {
  if (taskIds.length === 0) return [];
  const totals = await db
    .selectFrom('runs')
    .select((eb) => [
      'task_id',
      eb.fn.countAll<number>().as('runs'),
      eb.fn.sum<number>('cost_usd').as('cost'),
      eb.fn.max<string>('id').as('latest'),
    ])
    .where('task_id', 'in', taskIds)
    .groupBy('task_id')
    .execute();
  const latestIds = totals.map((t) => t.latest);
  const rows =
    latestIds.length === 0
      ? []
      : await db
          .selectFrom('runs')
          .select([
            'id',
            'task_id',
            'state',
            'agent',
            'attempt',
            'max_attempts',
            'iteration',
            'started_at',
            'ended_at',
            'last_output_at',
            'exit_code',
            'error_summary',
            'stalled_at',
            'notice',
            'denials',
            'lease_expires_at',
          ])
          .where('id', 'in', latestIds)
          .execute();
  const byTask = new Map(totals.map((t) => [Number(t.task_id), t]));
  const latestByTask = new Map(rows.map((r) => [Number(r.task_id), r]));
  return taskIds.map((taskId) => {
    const t = byTask.get(taskId);
    const r = latestByTask.get(taskId);
    return {
      taskId,
      runs: Number(t?.runs ?? 0),
      costUsd: Number(t?.cost ?? 0),
      latest: r
        ? {
            id: r.id,
            state: r.state,
            agent: r.agent,
            attempt: r.attempt,
            maxAttempts: r.max_attempts,
            iteration: r.iteration,
            startedAt: num(r.started_at),
            endedAt: num(r.ended_at),
            lastOutputAt: num(r.last_output_at),
            exitCode: r.exit_code,
            errorSummary: r.error_summary,
            stalled: r.stalled_at !== null,
            notice: r.notice,
            denials: Number(r.denials),
            leaseExpiresAt: num(r.lease_expires_at),
          }
        : null,
    };
  });
}
