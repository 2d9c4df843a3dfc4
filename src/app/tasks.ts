import { ConflictError, UsageError } from '../domain/errors.js';
import { findCycle } from '../domain/graph.js';
import { formatTaskId } from '../domain/ids.js';
import { type Priority, priorityRank, stepTask, type TaskStatus } from '../domain/task.js';
import { insertComment } from '../store/comments.js';
import { nextValue } from '../store/counters.js';
import { appendEvent } from '../store/events.js';
import { activeRunOfTask } from '../store/runs.js';
import type { Tx } from '../store/store.js';
import {
  addDependencies,
  allDependencyEdges,
  columnPositions,
  dependenciesOf,
  getTask,
  insertTask,
  lastPosition,
  listTasks,
  removeDependencies,
  setPositions,
  type TaskFilter,
  type TaskRow,
  updateTask,
} from '../store/tasks.js';
import type { App } from './context.js';
import { queueMentionRun } from './mentions.js';
import { finishWaitingParent, maybeAutostart, onTaskFinished, openSubtasks } from './queue.js';
import { cancelActiveRun } from './runs.js';
import { requireTask } from './task-lookup.js';
import { commentView, type RunView, runView, type TaskView, taskView } from './views.js';

export interface TaskInput {
  title: string;
  body?: string;
  status?: TaskStatus;
  priority?: Priority;
  agent?: string | null;
  labels?: string[];
  parent?: number | null;
  dependsOn?: number[];
  verifyCommand?: string | null;
  loop?: { enabled?: boolean; maxIterations?: number; delayMs?: number; doneFile?: string };
  maxAttempts?: number | null;
  maxCostUsd?: number | null;
}

const POSITION_GAP = 1024;
const MAX_TITLE = 500;
const MAX_BODY = 1_000_000;

/**
 * Inserts a new, already validated task with its dependency edges and its
 * `task.created` event, in the caller's transaction: the one way a task row
 * is made (the CLI and API, schedules, heartbeats).
 */
export async function insertNewTask(
  tx: Tx,
  input: TaskInput & { status: TaskStatus; agent: string | null },
  eventData: Record<string, unknown> = {},
): Promise<TaskRow> {
  const id = await nextValue(tx, 'task');
  const row: TaskRow = {
    id,
    title: input.title,
    body: input.body ?? '',
    status: input.status,
    priority: priorityRank(input.priority ?? 'medium'),
    position: (await lastPosition(tx.db, input.status)) + POSITION_GAP,
    agent: input.agent,
    labels: JSON.stringify(unique(input.labels ?? [])),
    parent_id: input.parent ?? null,
    verify_command: input.verifyCommand ?? null,
    loop_enabled: input.loop?.enabled ? 1 : 0,
    loop_max_iterations: input.loop?.maxIterations ?? 10,
    loop_delay_ms: input.loop?.delayMs ?? 0,
    loop_done_file: input.loop?.doneFile ?? 'DONE',
    max_attempts: input.maxAttempts ?? null,
    max_cost_usd: input.maxCostUsd ?? null,
    status_reason: null,
    escalated_from_run_id: null,
    created_at: tx.now,
    updated_at: tx.now,
  };
  await insertTask(tx, row);
  const deps = unique(input.dependsOn ?? []);
  await addDependencies(tx, id, deps);
  await appendEvent(tx, 'task.created', {
    taskId: id,
    data: { title: row.title, status: row.status, ...eventData },
  });
  return row;
}

export async function addTask(app: App, input: TaskInput): Promise<TaskView> {
  const title = validateTitle(input.title);
  validateBody(input.body);
  checkAgent(app, input.agent);
  const status = input.status ?? 'todo';
  if (status === 'in_progress' || status === 'cancelled') {
    throw new UsageError(
      `a new task cannot start as ${status}: use backlog, todo, review, done or blocked`,
      {
        field: 'status',
      },
    );
  }
  const deps = unique(input.dependsOn ?? []);
  return app.store.tx(async (tx) => {
    await requireTasks(tx, [...deps, ...(input.parent ? [input.parent] : [])]);
    const row = await insertNewTask(tx, {
      ...input,
      title,
      status,
      dependsOn: deps,
      agent: input.agent === undefined ? (app.config.defaults.agent ?? null) : input.agent,
    });
    const started = await maybeAutostart(app, tx, row);
    return taskView(started ?? row, deps);
  });
}

export type TaskPatch = Partial<Omit<TaskInput, 'status' | 'dependsOn'>> & {
  addDependsOn?: number[];
  removeDependsOn?: number[];
};

export async function editTask(app: App, id: number, patch: TaskPatch): Promise<TaskView> {
  if (patch.title !== undefined) validateTitle(patch.title);
  validateBody(patch.body);
  if (patch.agent !== undefined) checkAgent(app, patch.agent);
  return app.store.tx(async (tx) => {
    await requireTask(tx, id);
    const changes: Parameters<typeof updateTask>[2] = {};
    if (patch.title !== undefined) changes.title = patch.title.trim();
    if (patch.body !== undefined) changes.body = patch.body;
    if (patch.priority !== undefined) changes.priority = priorityRank(patch.priority);
    if (patch.agent !== undefined) changes.agent = patch.agent;
    if (patch.labels !== undefined) changes.labels = JSON.stringify(unique(patch.labels));
    if (patch.verifyCommand !== undefined) changes.verify_command = patch.verifyCommand;
    if (patch.maxAttempts !== undefined) changes.max_attempts = patch.maxAttempts;
    if (patch.maxCostUsd !== undefined) changes.max_cost_usd = patch.maxCostUsd;
    if (patch.loop?.enabled !== undefined) changes.loop_enabled = patch.loop.enabled ? 1 : 0;
    if (patch.loop?.maxIterations !== undefined)
      changes.loop_max_iterations = patch.loop.maxIterations;
    if (patch.loop?.delayMs !== undefined) changes.loop_delay_ms = patch.loop.delayMs;
    if (patch.loop?.doneFile !== undefined) changes.loop_done_file = patch.loop.doneFile;
    if (patch.parent !== undefined) {
      if (patch.parent !== null) {
        await requireTasks(tx, [patch.parent]);
        await refuseParentCycle(tx, id, patch.parent);
      }
      changes.parent_id = patch.parent;
    }
    const add = unique(patch.addDependsOn ?? []);
    if (add.length > 0) {
      await requireTasks(tx, add);
      const existing = await dependenciesOf(tx.db, id);
      const fresh = add.filter((d) => !existing.includes(d));
      const edges = await allDependencyEdges(tx.db);
      const cycle = findCycle([...edges, ...fresh.map((d): [number, number] => [id, d])], id);
      if (cycle) {
        throw new ConflictError(
          'dependency_cycle',
          `that dependency would make a cycle: ${cycle.map(formatTaskId).join(' -> ')}`,
          { cycle: cycle.map(formatTaskId) },
        );
      }
      await addDependencies(tx, id, fresh);
    }
    const remove = unique(patch.removeDependsOn ?? []);
    if (remove.length > 0) {
      await removeDependencies(tx, id, remove);
    }
    await updateTask(tx, id, changes);
    await appendEvent(tx, 'task.updated', { taskId: id, data: { fields: Object.keys(patch) } });
    const updated = await requireTask(tx, id);
    const started = await maybeAutostart(app, tx, updated);
    return taskView(started ?? updated, await dependenciesOf(tx.db, id));
  });
}

/**
 * Moves a card to another column (or reorders it within its column when
 * `to` is its current status). `position` is the 0-based index in the target
 * column; omitted means the bottom.
 */
export async function moveTask(
  app: App,
  id: number,
  to: TaskStatus,
  position?: number,
): Promise<TaskView> {
  if (position !== undefined && (!Number.isInteger(position) || position < 0)) {
    throw new UsageError(`position must be a whole number >= 0, got ${position}`, {
      field: 'position',
    });
  }
  if (to === 'cancelled') return cancelTask(app, id);
  return app.store.tx((tx) => moveTaskInTx(app, tx, id, to, position));
}

/**
 * A move (other than to Cancelled, which may have to stop a run) inside the
 * caller's transaction, so a use case can make it one step with its own writes.
 */
export async function moveTaskInTx(
  app: App,
  tx: Tx,
  id: number,
  to: Exclude<TaskStatus, 'cancelled'>,
  position?: number,
): Promise<TaskView> {
  const task = await requireTask(tx, id);
  const from = task.status;
  const step = stepTask(from, { type: 'move', to }, formatTaskId(task.id));
  const next = step.to;
  if (to === 'done') await refuseOpenChildren(tx, id);
  const pos = await positionAt(tx, to, id, position);
  await updateTask(tx, id, { status: step, position: pos, status_reason: null });
  await appendEvent(tx, 'task.moved', { taskId: id, data: { from, to: next, position: pos } });
  const moved = { ...task, status: next, position: pos, status_reason: null };
  if (next === 'done' && from !== 'done') await onTaskFinished(app, tx, id);
  const started = await maybeAutostart(app, tx, moved);
  return taskView(started ?? moved, await dependenciesOf(tx.db, id));
}

export async function cancelTask(app: App, id: number, by = 'user'): Promise<TaskView> {
  return app.store.tx(async (tx) => {
    const task = await requireTask(tx, id);
    const from = task.status;
    const step = stepTask(from, { type: 'cancel' }, formatTaskId(task.id));
    const active = await activeRunOfTask(tx.db, id);
    if (active && active.state !== 'queued') {
      // The agent is still alive: the card is cancelled once its run has ended.
      await cancelActiveRun(app, tx, active, {
        action: 'cancel',
        reason: `task cancelled by ${by}`,
      });
      return taskView(await requireTask(tx, id), await dependenciesOf(tx.db, id));
    }
    if (active) {
      // A queued run ends at once, and its follow-up moves the card to Cancelled.
      await cancelActiveRun(app, tx, active, {
        action: 'cancel',
        reason: `task cancelled by ${by}`,
      });
      return taskView(await requireTask(tx, id), await dependenciesOf(tx.db, id));
    }
    await updateTask(tx, id, { status: step, status_reason: `cancelled by ${by}` });
    await appendEvent(tx, 'task.moved', { taskId: id, data: { from, to: step.to } });
    await finishWaitingParent(app, tx, id);
    return taskView(await requireTask(tx, id), await dependenciesOf(tx.db, id));
  });
}

export async function commentOnTask(
  app: App,
  id: number,
  author: string,
  body: string,
): Promise<ReturnType<typeof commentView> & { mentionRun: RunView | null }> {
  if (!body.trim()) throw new UsageError('a comment needs text', { field: 'body' });
  validateBody(body);
  return app.store.tx(async (tx) => {
    const task = await requireTask(tx, id);
    const c = await insertComment(tx, { taskId: id, author, body });
    await appendEvent(tx, 'task.commented', { taskId: id, data: { commentId: c.id, author } });
    // An @agent mention queues a run in this same transaction (app/mentions.ts).
    const run = await queueMentionRun(app, tx, task, { author, body });
    return { ...commentView(c), mentionRun: run && runView(run) };
  });
}

export async function listTaskViews(app: App, filter: TaskFilter): Promise<TaskView[]> {
  const rows = await listTasks(app.store.db, filter);
  return rows.map((r) => taskView(r));
}

async function requireTasks(tx: Tx, ids: number[]): Promise<void> {
  for (const id of ids) await requireTask(tx, id);
}

async function refuseParentCycle(tx: Tx, id: number, parent: number): Promise<void> {
  for (let cur: number | null = parent; cur !== null; ) {
    if (cur === id) {
      throw new ConflictError(
        'parent_cycle',
        `${formatTaskId(parent)} cannot be the parent of ${formatTaskId(id)}: it is ${formatTaskId(id)} itself or one of its subtasks`,
      );
    }
    cur = (await getTask(tx.db, cur))?.parent_id ?? null;
  }
}

async function refuseOpenChildren(tx: Tx, id: number): Promise<void> {
  const open = await openSubtasks(tx, id);
  if (open.length > 0) {
    throw new ConflictError(
      'open_subtasks',
      `${formatTaskId(id)} cannot be done while its subtasks are open: ${open.map((c) => `${formatTaskId(c.id)} (${c.status})`).join(', ')}`,
    );
  }
}

async function positionAt(tx: Tx, status: TaskStatus, id: number, index?: number): Promise<number> {
  const column = (await columnPositions(tx.db, status)).filter((c) => c.id !== id);
  if (index === undefined || index >= column.length) {
    return (column.at(-1)?.position ?? 0) + POSITION_GAP;
  }
  const after = column[index]?.position ?? POSITION_GAP;
  const before = index > 0 ? (column[index - 1]?.position ?? 0) : after - 2 * POSITION_GAP;
  const mid = (before + after) / 2;
  if (after - before > 1e-6) return mid;
  // Repeated inserts at one spot have used up the gap: renumber the column.
  await setPositions(
    tx,
    column.map((c, i) => ({
      id: c.id,
      position: (i + 1) * POSITION_GAP + (i >= index ? POSITION_GAP : 0),
    })),
  );
  return (index + 1) * POSITION_GAP;
}

function validateTitle(title: string): string {
  const t = title.trim();
  if (!t) throw new UsageError('a task needs a title', { field: 'title' });
  if (t.length > MAX_TITLE) {
    throw new UsageError(
      `the title is ${t.length} characters; the limit is ${MAX_TITLE}: put details in the body`,
      {
        field: 'title',
      },
    );
  }
  return t;
}

function validateBody(body: string | undefined): void {
  if (body !== undefined && body.length > MAX_BODY) {
    throw new UsageError(`the body is ${body.length} characters; the limit is ${MAX_BODY}`, {
      field: 'body',
    });
  }
}

export function checkAgent(app: App, agent: string | null | undefined): void {
  if (agent === null || agent === undefined) return;
  const names = Object.keys(app.config.agents);
  if (!names.includes(agent)) {
    throw new UsageError(
      `agent "${agent}" is not configured: add it under agents in ${app.paths.config} (configured: ${names.join(', ') || 'none'})`,
      { field: 'agent' },
    );
  }
}

function unique<T>(xs: T[]): T[] {
  return [...new Set(xs)];
}
