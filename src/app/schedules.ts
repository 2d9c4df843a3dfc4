/**
 * Schedules: cron-driven runs. Each tick the engine fires is recorded as a
 * (schedule_id, tick_at) row in the same transaction as the task and run it
 * creates, so a tick gets exactly one run however many engines tick and
 * wherever one crashes.
 */

import { TICK_OUTCOMES } from '../contract/vocabulary.js';
import { ConflictError, NotFoundError, UsageError } from '../domain/errors.js';
import { formatTaskId } from '../domain/ids.js';
import {
  type CatchUp,
  formatScheduleId,
  nextTick,
  type Overlap,
  parseCron,
  planCatchUp,
  planOverlap,
} from '../domain/schedule.js';
import { canStartRun } from '../domain/task.js';
import { appendEvent } from '../store/events.js';
import { activeRunOfTask } from '../store/runs.js';
import {
  deleteSchedule,
  getSchedule,
  insertSchedule,
  insertTick,
  listSchedules,
  lockSchedule,
  type ScheduleRow,
  scheduleBusy,
  schedulesWithWaitingTicks,
  type TickCounts,
  type TickOutcome,
  tickCounts,
  updateSchedule,
  updateTick,
  waitingTicks,
} from '../store/schedules.js';
import type { Tx } from '../store/store.js';
import { getTask, type TaskRow } from '../store/tasks.js';
import type { App } from './context.js';
import { heartbeatPrompt } from './heartbeat.js';
import { enqueueRun, taskPrompt } from './queue.js';
import { requireTask } from './task-lookup.js';
import { checkAgent, insertNewTask } from './tasks.js';

export const DEFAULT_CATCH_UP: CatchUp = 'latest';
export const DEFAULT_CATCH_UP_WINDOW_MS = 6 * 3_600_000;
export const DEFAULT_OVERLAP: Overlap = 'skip';
const MAX_WINDOW_MS = 366 * 86_400_000;
const MAX_PROMPT = 1_000_000;
const MAX_TITLE = 200;

export interface ScheduleInput {
  cron: string;
  agent?: string | null;
  prompt: string;
  taskId?: number | null;
  title?: string | null;
  catchUp?: CatchUp;
  catchUpWindowMs?: number;
  overlap?: Overlap;
  timezone?: string | null;
}

/** The public shape of a schedule: what `--json` prints and the API returns. */
export interface ScheduleView {
  id: string;
  cron: string;
  timezone: string | null;
  agent: string | null;
  prompt: string;
  task: string | null;
  title: string | null;
  catchUp: CatchUp;
  catchUpWindowMs: number;
  overlap: Overlap;
  enabled: boolean;
  heartbeat: boolean;
  lastTickAt: string | null;
  nextTickAt: string | null;
  createdAt: string;
  ticks: TickCounts;
}

const NO_TICKS: TickCounts = { run: 0, skipped: 0, waiting: 0, idle: 0 };

export function scheduleView(s: ScheduleRow, ticks: TickCounts, now: number): ScheduleView {
  const cursor = s.last_tick_at ?? s.created_at;
  let next: number | null = null;
  try {
    if (s.enabled) next = nextTick(parseCron(s), Math.max(cursor, now));
  } catch {
    next = null;
  }
  return {
    id: formatScheduleId(s.id),
    cron: s.cron,
    timezone: s.timezone,
    agent: s.agent,
    prompt: s.prompt,
    task: s.task_id === null ? null : formatTaskId(s.task_id),
    title: s.title,
    catchUp: s.catch_up,
    catchUpWindowMs: s.catch_up_window_ms,
    overlap: s.overlap,
    enabled: s.enabled === 1,
    heartbeat: s.heartbeat === 1,
    lastTickAt: s.last_tick_at === null ? null : new Date(s.last_tick_at).toISOString(),
    nextTickAt: next === null ? null : new Date(next).toISOString(),
    createdAt: new Date(s.created_at).toISOString(),
    ticks,
  };
}

export async function addSchedule(app: App, input: ScheduleInput): Promise<ScheduleView> {
  const cron = input.cron.trim();
  const timezone = input.timezone?.trim() || null;
  parseCron({ cron, timezone });
  const prompt = input.prompt;
  if (!prompt.trim()) throw new UsageError('a schedule needs a prompt', { field: 'prompt' });
  if (prompt.length > MAX_PROMPT) {
    throw new UsageError(`the prompt is ${prompt.length} characters; the limit is ${MAX_PROMPT}`, {
      field: 'prompt',
    });
  }
  const title = input.title?.trim() || null;
  if (title && title.length > MAX_TITLE) {
    throw new UsageError(`the title is ${title.length} characters; the limit is ${MAX_TITLE}`, {
      field: 'title',
    });
  }
  const windowMs = input.catchUpWindowMs ?? DEFAULT_CATCH_UP_WINDOW_MS;
  if (!Number.isSafeInteger(windowMs) || windowMs < 0 || windowMs > MAX_WINDOW_MS) {
    throw new UsageError('the catch-up window must be between 0 and 366 days', {
      field: 'catchUpWindow',
    });
  }
  const overlap = input.overlap ?? DEFAULT_OVERLAP;
  const taskId = input.taskId ?? null;
  if (taskId !== null && overlap === 'allow') {
    throw new UsageError(
      `a schedule on a fixed task cannot use --overlap allow: a task has at most one active run. Use --overlap skip or queue, or leave out --task to create a task per tick`,
      { field: 'overlap' },
    );
  }
  return app.store.tx(async (tx) => {
    const task = taskId === null ? undefined : await requireTask(tx, taskId);
    const agent = input.agent ?? task?.agent ?? app.config.defaults.agent ?? null;
    if (!agent) {
      throw new UsageError('a schedule needs an agent: give --agent NAME', { field: 'agent' });
    }
    checkAgent(app, agent);
    const row = await insertSchedule(tx, {
      cron,
      timezone,
      agent,
      prompt,
      task_id: taskId,
      catch_up: input.catchUp ?? DEFAULT_CATCH_UP,
      catch_up_window_ms: windowMs,
      overlap,
      enabled: 1,
      last_tick_at: null,
      created_at: tx.now,
      title,
      heartbeat: 0,
    });
    await appendEvent(tx, 'schedule.created', {
      taskId,
      data: { scheduleId: formatScheduleId(row.id), cron, agent },
    });
    return scheduleView(row, NO_TICKS, tx.now);
  });
}

export async function listScheduleViews(app: App): Promise<ScheduleView[]> {
  const [rows, counts] = await Promise.all([listSchedules(app.store.db), tickCounts(app.store.db)]);
  const now = app.clock.now();
  return rows.map((s) => scheduleView(s, counts.get(s.id) ?? NO_TICKS, now));
}

export async function showSchedule(app: App, id: number): Promise<ScheduleView> {
  const s = await getSchedule(app.store.db, id);
  if (!s) throw scheduleNotFound(id);
  const counts = await tickCounts(app.store.db);
  return scheduleView(s, counts.get(id) ?? NO_TICKS, app.clock.now());
}

export async function removeSchedule(app: App, id: number): Promise<{ id: string; deleted: true }> {
  return app.store.tx(async (tx) => {
    const s = await lockSchedule(tx, id);
    if (!s) throw scheduleNotFound(id);
    if (s.heartbeat === 1) {
      throw new ConflictError(
        'schedule_heartbeat',
        `${formatScheduleId(id)} is the heartbeat of agent "${s.agent}": remove agents.${s.agent}.heartbeat from ${app.paths.config} instead`,
      );
    }
    await deleteSchedule(tx, id);
    await appendEvent(tx, 'schedule.deleted', {
      taskId: s.task_id,
      data: { scheduleId: formatScheduleId(id) },
    });
    return { id: formatScheduleId(id), deleted: true as const };
  });
}

function scheduleNotFound(id: number): NotFoundError {
  return new NotFoundError(
    'schedule',
    formatScheduleId(id),
    'list schedules with `agentboard schedule list`',
  );
}

export interface SchedulePass {
  /** Ticks recorded in this pass, by outcome. */
  ticks: TickCounts;
  /** When the next tick falls due, or null when no schedule will fire again. */
  nextDueAt: number | null;
  /** Schedules that could not be ticked, with the reason (the pass goes on with the others). */
  errors: string[];
  /** Ticks may be waiting for a run to end (overlap `queue`): a run's end calls for another pass. */
  mayHaveWaiting: boolean;
}

/**
 * One scheduler pass at `now`: fire every due tick of every enabled schedule
 * (after its catch-up policy), start waiting ticks whose turn has come, and
 * say when the next tick falls due. Each schedule is its own transaction.
 */
export async function runDueSchedules(app: App, now: number): Promise<SchedulePass> {
  const [rows, waiting] = await Promise.all([
    listSchedules(app.store.db, { enabledOnly: true }),
    schedulesWithWaitingTicks(app.store.db),
  ]);
  const pass: SchedulePass = {
    ticks: { ...NO_TICKS },
    nextDueAt: null,
    errors: [],
    mayHaveWaiting: waiting.size > 0,
  };
  for (const s of rows) {
    try {
      const first = nextTick(parseCron(s), s.last_tick_at ?? s.created_at);
      if ((first !== null && first <= now) || waiting.has(s.id)) {
        const done = await app.store.tx((tx) => tickSchedule(app, tx, s.id, now));
        for (const k of TICK_OUTCOMES) pass.ticks[k] += done[k];
      }
    } catch (e) {
      pass.errors.push(`schedule ${formatScheduleId(s.id)}: ${(e as Error).message}`);
    }
  }
  if (pass.ticks.waiting > 0) pass.mayHaveWaiting = true;
  for (const s of await listSchedules(app.store.db, { enabledOnly: true })) {
    try {
      const t = nextTick(parseCron(s), Math.max(s.last_tick_at ?? s.created_at, now));
      if (t !== null && (pass.nextDueAt === null || t < pass.nextDueAt)) pass.nextDueAt = t;
    } catch {
      // Reported above.
    }
  }
  return pass;
}

async function tickSchedule(app: App, tx: Tx, id: number, now: number): Promise<TickCounts> {
  const out = { ...NO_TICKS };
  const s = await lockSchedule(tx, id);
  if (s?.enabled !== 1) return out;
  const cursor = s.last_tick_at ?? s.created_at;
  const plan = planCatchUp(parseCron(s), cursor, now, {
    catchUp: s.catch_up,
    windowMs: s.catch_up_window_ms,
  });
  const waiting = await waitingTicks(tx.db, id);
  const busy = plan.fire.length > 0 || waiting.length > 0 ? await scheduleBusy(tx.db, s) : false;
  const recorded: { tick: string; outcome: TickOutcome; run?: string }[] = [];
  for (const d of planOverlap(s.overlap, busy, waiting, plan.fire)) {
    const base = { schedule_id: id, tick_at: d.tick };
    if (d.action === 'wait') {
      if (await insertTick(tx, { ...base, outcome: 'waiting' })) {
        out.waiting++;
        recorded.push({ tick: new Date(d.tick).toISOString(), outcome: 'waiting' });
      }
      continue;
    }
    const claimed = d.waiting
      ? await updateTick(tx, id, d.tick, 'waiting', { outcome: 'run' })
      : await insertTick(tx, { ...base, outcome: 'run' });
    // Already dealt with by another engine: never a second run for one tick.
    if (!claimed) continue;
    let result: TickResult;
    if (d.action === 'skip') {
      result = { outcome: 'skipped', reason: 'the previous tick was still running' };
    } else {
      result = await startTick(app, tx, s, d.tick);
    }
    await updateTick(tx, id, d.tick, 'run', {
      outcome: result.outcome,
      reason: result.reason ?? null,
      task_id: result.taskId ?? null,
      run_id: result.runId ?? null,
    });
    out[result.outcome]++;
    recorded.push({
      tick: new Date(d.tick).toISOString(),
      outcome: result.outcome,
      ...(result.runId ? { run: result.runId } : {}),
    });
  }
  if (plan.cursor > cursor) await updateSchedule(tx, id, { last_tick_at: plan.cursor });
  if (recorded.length > 0) {
    await appendEvent(tx, 'schedule.ticked', {
      taskId: s.task_id,
      data: { scheduleId: formatScheduleId(id), ticks: recorded },
    });
  }
  return out;
}

interface TickResult {
  outcome: TickOutcome;
  reason?: string;
  taskId?: number;
  runId?: string;
}

/** Starts one tick's run: on the fixed task (or the heartbeat task), or on a new task. */
async function startTick(app: App, tx: Tx, s: ScheduleRow, tick: number): Promise<TickResult> {
  const agent = s.agent;
  if (!agent || !app.config.agents[agent]) {
    return { outcome: 'skipped', reason: `agent "${agent}" is not configured` };
  }
  if (s.task_id === null) {
    const task = await insertTickTask(tx, s, agent, tick);
    const run = await enqueueRun(app, tx, task, {
      agent,
      trigger: 'schedule',
      prompt: taskPrompt(task),
    });
    return { outcome: 'run', taskId: task.id, runId: run.id };
  }
  const task = await getTask(tx.db, s.task_id);
  if (!task) return { outcome: 'skipped', reason: `task ${formatTaskId(s.task_id)} is gone` };
  const tid = formatTaskId(task.id);
  if (!canStartRun(task.status) || (await activeRunOfTask(tx.db, task.id))) {
    return { outcome: 'skipped', reason: `${tid} is ${task.status}: no run can start on it` };
  }
  let prompt: string;
  if (s.heartbeat === 1) {
    const hb = await heartbeatPrompt(tx, s, agent, tick);
    if (hb === null) return { outcome: 'idle', reason: 'nothing to review' };
    prompt = hb;
  } else {
    prompt = `${taskPrompt(task)}\n---\n\n${s.prompt.trim()}\n`;
  }
  const run = await enqueueRun(app, tx, task, { agent, trigger: 'schedule', prompt });
  return { outcome: 'run', taskId: task.id, runId: run.id };
}

/** A new task for one tick: the schedule's title (or the prompt's first line) and the tick time. */
async function insertTickTask(
  tx: Tx,
  s: ScheduleRow,
  agent: string,
  tick: number,
): Promise<TaskRow> {
  const firstLine =
    s.prompt
      .trim()
      .split('\n')[0]
      ?.replace(/^#+\s*/, '') ?? '';
  const base = s.title ?? (firstLine.slice(0, 80) || `Schedule ${formatScheduleId(s.id)}`);
  const title = `${base} (${formatTick(tick, s.timezone)})`;
  return insertNewTask(
    tx,
    { title, body: s.prompt, status: 'todo', agent, labels: ['scheduled'] },
    { schedule: formatScheduleId(s.id) },
  );
}

/** `2030-01-01 09:00 Europe/Paris` (or UTC). */
export function formatTick(tick: number, timezone: string | null): string {
  const tz = timezone ?? 'UTC';
  const text = new Intl.DateTimeFormat('sv-SE', {
    timeZone: tz,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).format(new Date(tick));
  return `${text} ${tz}`;
}
