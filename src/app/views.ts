import type { CommentView, RunView, TaskView } from '../contract/views.js';
import {
  isOneOf,
  PRIORITIES,
  RUN_STATES,
  RUN_TRIGGERS,
  TASK_STATUSES,
} from '../contract/vocabulary.js';
import { StoreError } from '../domain/errors.js';
import { formatTaskId } from '../domain/ids.js';
import type { CommentRow } from '../store/comments.js';
import type { RunRow } from '../store/runs.js';
import type { TaskRow } from '../store/tasks.js';

export type { CommentView, RunView, TaskView };

/** A word read from a database column, checked against the contract's list (a newer version may have written one we do not know). */
export function known<T extends string>(list: readonly T[], value: string, column: string): T {
  if (isOneOf(list, value)) return value;
  throw new StoreError(
    'internal',
    `the database holds ${column} "${value}", which this agentboard does not know: was it written by a newer version? Upgrade agentboard`,
  );
}

/** The public shape of a task: what `--json` prints and the API returns. */
export function taskView(t: TaskRow, dependsOn: number[] = []): TaskView {
  return {
    id: formatTaskId(t.id),
    title: t.title,
    body: t.body,
    status: known(TASK_STATUSES, t.status, 'task status'),
    statusReason: t.status_reason,
    priority: PRIORITIES[t.priority] ?? 'medium',
    position: t.position,
    agent: t.agent,
    labels: JSON.parse(t.labels) as string[],
    parent: t.parent_id === null ? null : formatTaskId(t.parent_id),
    dependsOn: dependsOn.map(formatTaskId),
    verifyCommand: t.verify_command,
    loop: {
      enabled: t.loop_enabled === 1,
      maxIterations: t.loop_max_iterations,
      delayMs: t.loop_delay_ms,
      doneFile: t.loop_done_file,
    },
    maxAttempts: t.max_attempts,
    maxCostUsd: t.max_cost_usd,
    createdAt: new Date(t.created_at).toISOString(),
    updatedAt: new Date(t.updated_at).toISOString(),
  };
}

const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());

/** What a run's supervision is judged on, read from the database (app/workers.ts supervision). */
export interface Supervision {
  /** The lease clock: the database's on PostgreSQL. */
  leaseNow: number;
  /** Some worker (`serve` or `worker`) heartbeat within a lease period. */
  engineAlive: boolean;
}

export function isUnsupervised(
  r: Pick<RunRow, 'state' | 'lease_expires_at'>,
  s: Supervision,
): boolean {
  return (
    (r.state === 'claimed' || r.state === 'running') &&
    r.lease_expires_at !== null &&
    r.lease_expires_at <= s.leaseNow &&
    !s.engineAlive
  );
}

/** runView with `unsupervised` judged on `s`: `rows.map(supervisedRunView(s))`. */
export function supervisedRunView(s: Supervision): (r: RunRow) => RunView {
  return (r) => ({ ...runView(r), unsupervised: isUnsupervised(r, s) });
}

/** A run's view; `unsupervised` needs the database's word, so it is false here (see supervisedRunView). */
export function runView(r: RunRow): RunView {
  return {
    id: r.id,
    task: formatTaskId(r.task_id),
    agent: r.agent,
    state: known(RUN_STATES, r.state, 'run state'),
    trigger: known(RUN_TRIGGERS, r.trigger, 'run trigger'),
    attempt: r.attempt,
    maxAttempts: r.max_attempts,
    iteration: r.iteration,
    runAt: new Date(r.run_at).toISOString(),
    pid: r.pid,
    host: r.host,
    exitCode: r.exit_code,
    exitSignal: r.exit_signal,
    errorSummary: r.error_summary,
    stopReason: r.stop_reason,
    notice: r.notice,
    stalled: r.stalled_at !== null,
    unsupervised: false,
    denials: r.denials,
    unparsedLines: r.unparsed_lines,
    cliVersion: r.cli_version,
    usage: {
      tokensIn: r.tokens_in,
      tokensOut: r.tokens_out,
      cacheRead: r.tokens_cache_read,
      cacheWrite: r.tokens_cache_write,
    },
    costUsd: r.cost_usd,
    costSource: r.cost_source,
    sessionId: r.session_id,
    cpuMs: r.cpu_ms,
    peakRssBytes: r.peak_rss_bytes,
    outputBytes: r.output_bytes,
    verify:
      r.verify_exit_code === null
        ? null
        : { exitCode: r.verify_exit_code, output: r.verify_output },
    previousRun: r.previous_run_id,
    commits: r.commit_before === null ? null : { before: r.commit_before, after: r.commit_after },
    createdAt: new Date(r.created_at).toISOString(),
    startedAt: iso(r.started_at),
    endedAt: iso(r.ended_at),
    durationMs: r.started_at !== null && r.ended_at !== null ? r.ended_at - r.started_at : null,
  };
}

export function commentView(c: CommentRow): CommentView {
  return {
    id: c.id,
    author: c.author,
    body: c.body,
    createdAt: new Date(c.created_at).toISOString(),
  };
}
