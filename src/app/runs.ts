import { ConflictError, NotFoundError, UsageError } from '../domain/errors.js';
import { errorSummary } from '../domain/exit.js';
import { planFollowUp } from '../domain/follow-up.js';
import { formatTaskId, isRunId, parseTaskId } from '../domain/ids.js';
import { isTerminalRun, type RunState, transitionRun } from '../domain/run.js';
import { type TaskStatus, transitionTask } from '../domain/task.js';
import { appendEvent } from '../store/events.js';
import {
  activeRunOfTask,
  findRunsByPrefix,
  getRun,
  insertRun,
  latestRunOfTask,
  latestSessionOf,
  type RunRow,
  updateRun,
} from '../store/runs.js';
import type { Tx } from '../store/store.js';
import { getTask, getTasks, type TaskRow, updateTask } from '../store/tasks.js';
import type { App } from './context.js';
import { type RunView, runView } from './views.js';

export interface EnqueueOptions {
  agent: string;
  trigger: 'manual' | 'autostart' | 'retry' | 'loop' | 'mention' | 'schedule' | 'reassign';
  prompt: string;
  attempt?: number;
  iteration?: number;
  runAt?: number;
  previousRunId?: string | null;
  resumeSessionId?: string | null;
}

/** The prompt an agent gets for a task: its id and title, then the markdown body. */
export function taskPrompt(task: TaskRow): string {
  const head = `# ${formatTaskId(task.id)}: ${task.title}`;
  return task.body.trim() ? `${head}\n\n${task.body.trim()}\n` : `${head}\n`;
}

/** Queues a run for a task, moving the card to In Progress in the same transaction. */
export async function enqueueRun(
  app: App,
  tx: Tx,
  task: TaskRow,
  o: EnqueueOptions,
): Promise<RunRow> {
  const from = task.status as TaskStatus;
  if (from !== 'in_progress') {
    const to = transitionTask(from, { type: 'run_started' }, formatTaskId(task.id));
    await updateTask(tx, task.id, { status: to, status_reason: null });
    await appendEvent(tx, 'task.moved', { taskId: task.id, data: { from, to } });
  }
  const row: RunRow = {
    id: app.newRunId(),
    task_id: task.id,
    agent: o.agent,
    state: 'queued',
    trigger: o.trigger,
    attempt: o.attempt ?? 1,
    max_attempts: task.max_attempts ?? app.config.defaults.max_attempts,
    iteration: o.iteration ?? 1,
    run_at: o.runAt ?? tx.now,
    priority: task.priority,
    prompt: o.prompt,
    resume_session_id: o.resumeSessionId ?? null,
    worker_id: null,
    lease_token: null,
    lease_expires_at: null,
    host: null,
    boot_id: null,
    pid: null,
    pgid: null,
    proc_start_time: null,
    exit_code: null,
    exit_signal: null,
    error_summary: null,
    session_id: null,
    tokens_in: 0,
    tokens_out: 0,
    tokens_cache_read: 0,
    tokens_cache_write: 0,
    cost_usd: 0,
    cost_source: null,
    max_cost_usd: task.max_cost_usd ?? app.config.agents[o.agent]?.max_cost_usd ?? null,
    model: app.config.agents[o.agent]?.model ?? null,
    notice: null,
    parsed_offset: 0,
    event_count: 0,
    cpu_ms: null,
    peak_rss_bytes: null,
    verify_exit_code: null,
    verify_output: null,
    stalled_at: null,
    stop_requested_at: null,
    stop_reason: null,
    stop_action: null,
    last_output_at: null,
    output_bytes: 0,
    previous_run_id: o.previousRunId ?? null,
    parent_run_id: null,
    created_at: tx.now,
    claimed_at: null,
    started_at: null,
    ended_at: null,
  };
  await insertRun(tx, row);
  await appendEvent(tx, 'run.queued', {
    taskId: task.id,
    runId: row.id,
    data: {
      agent: row.agent,
      attempt: row.attempt,
      iteration: row.iteration,
      runAt: row.run_at,
      trigger: o.trigger,
    },
  });
  return row;
}

/**
 * Board policy "autostart": a Todo card with an agent, whose dependencies are
 * all done, gets a run at once. Returns the updated task when it started one.
 */
export async function maybeAutostart(
  app: App,
  tx: Tx,
  task: TaskRow,
): Promise<TaskRow | undefined> {
  if (!app.config.board.autostart || task.status !== 'todo' || !task.agent) return undefined;
  if (!app.config.agents[task.agent]) return undefined;
  if ((await unfinishedDependencies(tx, task.id)).length > 0) return undefined;
  if (await activeRunOfTask(tx.db, task.id)) return undefined;
  await enqueueRun(app, tx, task, {
    agent: task.agent,
    trigger: 'autostart',
    prompt: taskPrompt(task),
  });
  return { ...task, status: 'in_progress', status_reason: null };
}

export async function unfinishedDependencies(tx: Tx, taskId: number): Promise<TaskRow[]> {
  const ids = (
    await tx.db
      .selectFrom('task_dependencies')
      .select('depends_on_id')
      .where('task_id', '=', taskId)
      .execute()
  ).map((r) => Number(r.depends_on_id));
  return (await getTasks(tx.db, ids)).filter((t) => t.status !== 'done');
}

/** A task reached Done: the tasks waiting on it may now start. */
export async function onTaskFinished(app: App, tx: Tx, taskId: number): Promise<void> {
  const dependents = await tx.db
    .selectFrom('task_dependencies')
    .select('task_id')
    .where('depends_on_id', '=', taskId)
    .execute();
  for (const d of dependents) {
    const t = await getTask(tx.db, Number(d.task_id));
    if (t) await maybeAutostart(app, tx, t);
  }
}

export interface StartRunOptions {
  agent?: string;
  /** A follow-up prompt (feedback, a comment). It resumes the agent's last session unless `fresh`. */
  prompt?: string;
  fresh?: boolean;
  trigger?: EnqueueOptions['trigger'];
}

export async function startRun(
  app: App,
  taskId: number,
  o: StartRunOptions = {},
): Promise<RunView> {
  return app.store.tx(async (tx) => {
    const task = await getTask(tx.db, taskId);
    if (!task)
      throw new NotFoundError(
        'task',
        formatTaskId(taskId),
        'list tasks with `agentboard task list`',
      );
    const active = await activeRunOfTask(tx.db, taskId);
    if (active) throw activeRunConflict(task.id, active);
    const agent = o.agent ?? task.agent ?? app.config.defaults.agent;
    const names = Object.keys(app.config.agents);
    if (!agent) {
      throw new UsageError(
        `${formatTaskId(taskId)} has no agent: pass --agent NAME or set one with \`agentboard task edit ${formatTaskId(taskId)} --agent NAME\` (configured: ${names.join(', ') || 'none; add one to config.yaml'})`,
        { field: 'agent' },
      );
    }
    if (!names.includes(agent)) {
      throw new UsageError(
        `agent "${agent}" is not configured (configured: ${names.join(', ') || 'none'})`,
        {
          field: 'agent',
        },
      );
    }
    const previous = await latestRunOfTask(tx.db, taskId);
    const resumable =
      o.prompt !== undefined && !o.fresh && app.config.agents[agent]?.kind !== 'command'
        ? await latestSessionOf(tx.db, taskId, agent)
        : null;
    const run = await enqueueRun(app, tx, task, {
      agent,
      trigger: o.trigger ?? 'manual',
      prompt: o.prompt ?? taskPrompt(task),
      previousRunId: previous?.id ?? null,
      resumeSessionId: resumable,
    });
    return runView(run);
  });
}

export function activeRunConflict(taskId: number, active: RunRow): ConflictError {
  return new ConflictError(
    'run_active',
    `${formatTaskId(taskId)} already has an active run ${active.id} (${active.state}): stop it first with \`agentboard stop ${active.id}\``,
    { activeRun: active.id, state: active.state },
  );
}

export type StopAction = 'block' | 'cancel' | 'timeout' | 'idle' | 'budget' | 'api_error';

/**
 * Ends a run on the user's (or a monitor's) behalf. A queued run ends at once.
 * A live one gets a stop request: the worker supervising it (or, failing that,
 * the reconciler) stops the process and records how it ended.
 */
export async function cancelActiveRun(
  app: App,
  tx: Tx,
  run: RunRow,
  o: { action: StopAction; reason: string },
): Promise<void> {
  if (run.state === 'queued') {
    transitionRun(run.state as RunState, { type: 'cancel' });
    await finishRunInTx(app, tx, run, {
      state: 'cancelled',
      exitCode: null,
      exitSignal: null,
      reason: o.reason,
      retryable: false,
      stderrTail: '',
      complete: false,
      verified: false,
      taskCancelled: o.action === 'cancel',
    });
    return;
  }
  if (run.stop_requested_at !== null && run.stop_action === o.action) return;
  // A pending cancel of the task wins over a later, weaker stop request.
  if (run.stop_action === 'cancel') return;
  await updateRun(tx, run.id, {
    stop_requested_at: tx.now,
    stop_reason: o.reason,
    stop_action: o.action,
  });
  await appendEvent(tx, 'run.stop_requested', {
    taskId: run.task_id,
    runId: run.id,
    data: { reason: o.reason, action: o.action },
  });
}

/** Resolves what the user typed for `stop`/`logs`: a run id (or unique prefix) or a task id. */
export async function resolveRun(
  app: App,
  ref: string,
  opts: { activeOnly?: boolean } = {},
): Promise<RunRow> {
  const db = app.store.db;
  if (/^r[0-9a-z]+$/.test(ref)) {
    const exact = isRunId(ref) ? await getRun(db, ref) : undefined;
    const found = exact ? [exact] : await findRunsByPrefix(db, ref);
    if (found.length === 0) throw new NotFoundError('run', ref, 'list runs with `agentboard runs`');
    if (found.length > 1)
      throw new UsageError(`run id prefix "${ref}" is ambiguous: type more of it`);
    return found[0] as RunRow;
  }
  const taskId = parseTaskId(ref);
  const task = await getTask(db, taskId);
  if (!task)
    throw new NotFoundError('task', formatTaskId(taskId), 'list tasks with `agentboard task list`');
  const run =
    (await activeRunOfTask(db, taskId)) ??
    (opts.activeOnly ? undefined : await latestRunOfTask(db, taskId));
  if (!run) {
    throw new NotFoundError(
      opts.activeOnly ? 'active run of task' : 'run of task',
      formatTaskId(taskId),
      `start one with \`agentboard run ${formatTaskId(taskId)}\``,
    );
  }
  return run;
}

export async function stopRun(app: App, ref: string): Promise<RunView> {
  const target = await resolveRun(app, ref, { activeOnly: true });
  return app.store.tx(async (tx) => {
    const run = await getRun(tx.db, target.id);
    if (!run || isTerminalRun(run.state as RunState)) {
      throw new ConflictError(
        'run_not_active',
        `run ${target.id} has already ended (${run?.state})`,
      );
    }
    await cancelActiveRun(app, tx, run, { action: 'block', reason: 'stopped by user' });
    return runView((await getRun(tx.db, run.id)) as RunRow);
  });
}

export interface RunEnd {
  state: 'succeeded' | 'failed' | 'timed_out' | 'cancelled' | 'lost';
  exitCode: number | null;
  exitSignal: string | null;
  reason: string;
  retryable: boolean;
  stderrTail: string;
  complete: boolean;
  verified: boolean;
  verify?: { exitCode: number; output: string };
  taskCancelled?: boolean;
  endedAt?: number;
  cpuMs?: number | null;
  peakRssBytes?: number | null;
  outputBytes?: number;
}

/**
 * Records how a run ended and applies the board's follow-up (retry, next loop
 * iteration, or the card's new column) in one transaction. With a lease
 * token, the write is fenced: a worker that lost the run cannot end it.
 * Returns false when the run had already ended or the token is stale.
 */
export async function finishRun(
  app: App,
  runId: string,
  leaseToken: number | null,
  end: RunEnd,
): Promise<boolean> {
  return app.store.tx(async (tx) => {
    const run = await getRun(tx.db, runId);
    if (!run || isTerminalRun(run.state as RunState)) return false;
    if (leaseToken !== null && run.lease_token !== leaseToken) return false;
    await finishRunInTx(app, tx, run, end);
    return true;
  });
}

async function finishRunInTx(app: App, tx: Tx, run: RunRow, end: RunEnd): Promise<void> {
  const action = run.stop_action as StopAction | null;
  const taskCancelled = end.taskCancelled ?? action === 'cancel';
  const summary = end.state === 'succeeded' ? null : errorSummary(end, end.stderrTail);
  await updateRun(tx, run.id, {
    state: end.state,
    exit_code: end.exitCode,
    exit_signal: end.exitSignal,
    error_summary: summary,
    ended_at: end.endedAt ?? tx.now,
    lease_expires_at: null,
    verify_exit_code: end.verify?.exitCode ?? null,
    verify_output: end.verify?.output ?? null,
    ...(end.cpuMs !== undefined ? { cpu_ms: end.cpuMs } : {}),
    ...(end.peakRssBytes !== undefined ? { peak_rss_bytes: end.peakRssBytes } : {}),
    ...(end.outputBytes !== undefined ? { output_bytes: end.outputBytes } : {}),
  });
  await appendEvent(tx, 'run.finished', {
    taskId: run.task_id,
    runId: run.id,
    data: {
      state: end.state,
      exitCode: end.exitCode,
      reason: end.state === 'succeeded' ? null : end.reason,
    },
  });
  const task = await getTask(tx.db, run.task_id);
  if (!task) return;
  const d = app.config.defaults;
  const follow = planFollowUp(
    {
      outcome: end.state,
      attempt: run.attempt,
      maxAttempts: run.max_attempts,
      retryable: end.retryable,
      reason: end.reason,
      taskCancelled,
      loop: {
        enabled: task.loop_enabled === 1,
        iteration: run.iteration,
        maxIterations: task.loop_max_iterations,
        delayMs: task.loop_delay_ms,
      },
      complete: end.complete,
      verified: end.verified,
      successColumn: app.config.board.on_success,
      doneWhenVerified: app.config.board.done_when_verified,
      backoff: {
        baseMs: d.backoff.base,
        factor: d.backoff.factor,
        maxMs: d.backoff.max,
        jitter: d.backoff.jitter,
      },
    },
    app.random,
  );
  const from = task.status as TaskStatus;
  switch (follow.kind) {
    case 'retry':
      await enqueueRun(app, tx, task, {
        agent: run.agent,
        trigger: 'retry',
        prompt: run.prompt,
        attempt: follow.attempt,
        iteration: run.iteration,
        runAt: tx.now + follow.delayMs,
        previousRunId: run.id,
        resumeSessionId: run.resume_session_id,
      });
      return;
    case 'loop':
      await enqueueRun(app, tx, task, {
        agent: run.agent,
        trigger: 'loop',
        prompt: run.prompt,
        iteration: follow.iteration,
        runAt: tx.now + follow.delayMs,
        previousRunId: run.id,
      });
      return;
    case 'finish': {
      const to = transitionTask(
        from,
        { type: 'run_succeeded', to: follow.to },
        formatTaskId(task.id),
      );
      await updateTask(tx, task.id, { status: to, status_reason: null });
      await appendEvent(tx, 'task.moved', { taskId: task.id, data: { from, to } });
      if (to === 'done') await onTaskFinished(app, tx, task.id);
      return;
    }
    case 'block': {
      const to = transitionTask(from, { type: 'run_gave_up' }, formatTaskId(task.id));
      // DESIGN §3: a Blocked card carries the error summary, i.e. the classified
      // exit *and* the stderr tail; follow.reason alone dropped the tail, so the
      // card never said what the agent printed before giving up.
      const reason = errorSummary({ ...end, reason: follow.reason }, end.stderrTail);
      await updateTask(tx, task.id, { status: to, status_reason: reason });
      await appendEvent(tx, 'task.moved', {
        taskId: task.id,
        data: { from, to, reason },
      });
      return;
    }
    case 'cancel': {
      const to = transitionTask(from, { type: 'cancel' }, formatTaskId(task.id));
      await updateTask(tx, task.id, { status: to, status_reason: end.reason });
      await appendEvent(tx, 'task.moved', { taskId: task.id, data: { from, to } });
      return;
    }
  }
}
