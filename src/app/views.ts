import { formatTaskId } from '../domain/ids.js';
import { PRIORITIES, type Priority, type TaskStatus } from '../domain/task.js';
import type { CommentRow } from '../store/comments.js';
import type { RunRow } from '../store/runs.js';
import type { TaskRow } from '../store/tasks.js';

/** The public shape of a task: what `--json` prints and the API returns. */
export interface TaskView {
  id: string;
  title: string;
  body: string;
  status: TaskStatus;
  statusReason: string | null;
  priority: Priority;
  position: number;
  agent: string | null;
  labels: string[];
  parent: string | null;
  dependsOn: string[];
  verifyCommand: string | null;
  loop: { enabled: boolean; maxIterations: number; delayMs: number; doneFile: string };
  maxAttempts: number | null;
  maxCostUsd: number | null;
  createdAt: string;
  updatedAt: string;
}

export function taskView(t: TaskRow, dependsOn: number[] = []): TaskView {
  return {
    id: formatTaskId(t.id),
    title: t.title,
    body: t.body,
    status: t.status as TaskStatus,
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

export interface RunView {
  id: string;
  task: string;
  agent: string;
  state: string;
  trigger: string;
  attempt: number;
  maxAttempts: number;
  iteration: number;
  runAt: string;
  pid: number | null;
  host: string | null;
  exitCode: number | null;
  exitSignal: string | null;
  errorSummary: string | null;
  stopReason: string | null;
  /** The agent's latest notice, e.g. a model API retry. */
  notice: string | null;
  stalled: boolean;
  /**
   * Claimed or running, its lease expired, and no engine alive to adopt it or
   * record its end: its state will not change until one starts.
   */
  unsupervised: boolean;
  /** Tool uses the agent's permission rules denied. */
  denials: number;
  /** Output lines the adapter could not parse. */
  unparsedLines: number;
  /** The agent CLI's version that ran. */
  cliVersion: string | null;
  usage: { tokensIn: number; tokensOut: number; cacheRead: number; cacheWrite: number };
  costUsd: number;
  costSource: string | null;
  sessionId: string | null;
  cpuMs: number | null;
  peakRssBytes: number | null;
  outputBytes: number;
  verify: { exitCode: number; output: string | null } | null;
  previousRun: string | null;
  /** Worktree runs: the task branch's commit before the run, and after its work was committed. */
  commits: { before: string; after: string | null } | null;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
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
    state: r.state,
    trigger: r.trigger,
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

export interface CommentView {
  id: number;
  author: string;
  body: string;
  createdAt: string;
}

export function commentView(c: CommentRow): CommentView {
  return {
    id: c.id,
    author: c.author,
    body: c.body,
    createdAt: new Date(c.created_at).toISOString(),
  };
}
