/** Queueing runs: the runs table is the queue, and a queued run moves its card in the same transaction. */
import { formatTaskId } from '../domain/ids.js';
import type { RunTrigger } from '../domain/run.js';
import { stepTask } from '../domain/task.js';
import { appendEvent } from '../store/events.js';
import { activeRunOfTask, insertRun, latestSessionOf, type RunRow } from '../store/runs.js';
import type { Tx } from '../store/store.js';
import {
  dependenciesOf,
  dependentsOf,
  getTask,
  getTasks,
  listTasks,
  type TaskRow,
  updateTask,
} from '../store/tasks.js';
import type { App } from './context.js';

export interface EnqueueOptions {
  agent: string;
  trigger: RunTrigger;
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

/**
 * The session a follow-up run of `agent` on the task resumes: its own latest,
 * so the agent keeps its context. A `command` agent has no session.
 */
export async function resumableSession(
  app: App,
  tx: Tx,
  taskId: number,
  agent: string,
): Promise<string | null> {
  if (app.config.agents[agent]?.kind === 'command') return null;
  return latestSessionOf(tx.db, taskId, agent);
}

/** Queues a run for a task, moving the card to In Progress in the same transaction. */
export async function enqueueRun(
  app: App,
  tx: Tx,
  task: TaskRow,
  o: EnqueueOptions,
): Promise<RunRow> {
  const from = task.status;
  if (from !== 'in_progress') {
    const step = stepTask(from, { type: 'run_started' }, formatTaskId(task.id));
    await updateTask(tx, task.id, { status: step, status_reason: null });
    await appendEvent(tx, 'task.moved', { taskId: task.id, data: { from, to: step.to } });
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
    workdir: null,
    commit_before: null,
    commit_after: null,
    cli_version: null,
    denials: 0,
    unparsed_lines: 0,
    parser_state: null,
    session_totals: null,
    output_removed_at: null,
    api_token_hash: null,
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
  const ids = await dependenciesOf(tx.db, taskId);
  return (await getTasks(tx.db, ids)).filter((t) => t.status !== 'done');
}

/** A task reached Done: the tasks waiting on it may now start. */
export async function onTaskFinished(app: App, tx: Tx, taskId: number): Promise<void> {
  for (const id of await dependentsOf(tx.db, taskId)) {
    const t = await getTask(tx.db, id);
    if (t) await maybeAutostart(app, tx, t);
  }
  await finishWaitingParent(app, tx, taskId);
}

/** The status reason of a parent whose run succeeded while subtasks were open (finish-run.ts). */
export const WAITING_FOR_SUBTASKS = 'waiting for subtasks: ';

/**
 * A subtask was closed (Done or Cancelled): if it was the last open one, a
 * parent held in Review only for its subtasks is done too.
 */
export async function finishWaitingParent(app: App, tx: Tx, childId: number): Promise<void> {
  const parentId = (await getTask(tx.db, childId))?.parent_id ?? null;
  if (parentId === null) return;
  const parent = await getTask(tx.db, parentId);
  if (parent?.status !== 'review' || !parent.status_reason?.startsWith(WAITING_FOR_SUBTASKS))
    return;
  if ((await openSubtasks(tx, parentId)).length > 0) return;
  const step = stepTask(parent.status, { type: 'subtasks_done' }, formatTaskId(parentId));
  await updateTask(tx, parentId, { status: step, status_reason: null });
  await appendEvent(tx, 'task.moved', {
    taskId: parentId,
    data: { from: step.from, to: step.to, reason: 'its subtasks are done' },
  });
  await onTaskFinished(app, tx, parentId);
}

/** A task's subtasks that are neither Done nor Cancelled: a parent is not Done before them. */
export async function openSubtasks(tx: Tx, taskId: number): Promise<TaskRow[]> {
  return (await listTasks(tx.db, { parentId: taskId })).filter(
    (c) => c.status !== 'done' && c.status !== 'cancelled',
  );
}
