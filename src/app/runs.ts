/** What a user (CLI, API) does with runs: start one, stop one, find one. */
import { ConflictError, NotFoundError, UsageError } from '../domain/errors.js';
import { formatTaskId, isRunId, parseTaskId } from '../domain/ids.js';
import { isTerminalRun } from '../domain/run.js';
import { appendEvent } from '../store/events.js';
import {
  activeRunOfTask,
  findRunsByPrefix,
  getRun,
  latestRunOfTask,
  type RunRow,
  updateRun,
} from '../store/runs.js';
import type { Tx } from '../store/store.js';
import { getTask } from '../store/tasks.js';
import type { App } from './context.js';
import { finishRunInTx, type StopAction } from './finish-run.js';
import { type EnqueueOptions, enqueueRun, resumableSession, taskPrompt } from './queue.js';
import { type RunView, runView } from './views.js';

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
      o.prompt !== undefined && !o.fresh ? await resumableSession(app, tx, taskId, agent) : null;
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
    // finishRunInTx steps the run machine (queued + cancel).
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
    if (!run || isTerminalRun(run.state)) {
      throw new ConflictError(
        'run_not_active',
        `run ${target.id} has already ended (${run?.state})`,
      );
    }
    await cancelActiveRun(app, tx, run, { action: 'block', reason: 'stopped by user' });
    return runView((await getRun(tx.db, run.id)) as RunRow);
  });
}
