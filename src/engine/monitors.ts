import { expireApprovals } from '../app/approval-expiry.js';
import type { App } from '../app/context.js';
import type { StopAction } from '../app/finish-run.js';
import { maybeAutostart } from '../app/queue.js';
import { cancelActiveRun } from '../app/runs.js';
import { addTask, insertNewTask } from '../app/tasks.js';
import { formatDuration } from '../domain/exit.js';
import { formatTaskId, parseTaskId } from '../domain/ids.js';
import { sampleGroups } from '../runner/proc.js';
import { approvalActivity } from '../store/approvals.js';
import { appendEvent } from '../store/events.js';
import {
  getRun,
  listRuns,
  type RunRow,
  staleQueuedRuns,
  updateRun,
  updateRunFenced,
} from '../store/runs.js';
import {
  allDependencyEdges,
  getTask,
  getTasks,
  listTasks,
  type TaskRow,
  updateTask,
} from '../store/tasks.js';
import { liveWorkers } from '../store/workers.js';
import { recordApprovals } from './approval-transcript.js';
import type { EngineContext } from './context.js';
import { finalizeLiveRun } from './finalize.js';
import type { LiveRun } from './live-run.js';

const PERSIST_EVERY_MS = 5000;
const FINALIZE_RETRY_MS = 2000;

/**
 * One pass of the run monitors: output and resources of live runs, the
 * wall-clock timeout, the idle timeout (not while a run waits on a person),
 * stop requests, approvals past approval_timeout and into the transcripts, runs queued too long,
 * and Todo cards that cannot start by themselves. Each verdict is written to the DB before anything is killed, so a
 * crash in between loses no decision.
 */
export async function monitorTick(ctx: EngineContext): Promise<void> {
  const now = ctx.app.clock.now();
  const usage = sampleGroups(new Set([...ctx.live.values()].map((l) => l.init.pgid)));
  const idle: LiveRun[] = [];
  for (const live of ctx.live.values()) {
    if (live.finalizePending) {
      // Its end could not be recorded (the database was away): try again.
      if (now - live.lastFinalizeTry >= FINALIZE_RETRY_MS) {
        live.lastFinalizeTry = now;
        void finalizeLiveRun(ctx, live);
      }
      continue;
    }
    live.pollExit();
    live.sample(now, usage);
    if (live.hasExited || live.stopRequested) continue;
    if (now - live.init.startedAt > live.init.timeoutMs) {
      await requestStop(
        ctx,
        live,
        'timeout',
        `wall-clock timeout ${formatDuration(live.init.timeoutMs)}`,
      );
    } else if (now - live.lastOutputAt > live.init.idleTimeoutMs) {
      idle.push(live);
    }
  }
  await stopIdle(ctx, idle, now);
  await applyStopRequests(ctx);
  await expireApprovals(ctx.app);
  await recordApprovals(ctx);
  await persistProgress(ctx, now);
  await checkQueue(ctx, now);
  // A scan of every Todo card: not every tick on a large board.
  const every = Math.min(TODO_CHECK_MS, ctx.app.config.defaults.queue_timeout / 2);
  if (now - (lastTodoCheck.get(ctx) ?? 0) >= every) {
    lastTodoCheck.set(ctx, now);
    await checkTodo(ctx, now);
  }
}

/**
 * Silent runs past idle_timeout are stopped, unless they wait on a person:
 * a pending approval is not idleness, and a decision counts as activity
 * (the wall-clock timeout still applies either way).
 */
async function stopIdle(ctx: EngineContext, idle: LiveRun[], now: number): Promise<void> {
  if (idle.length === 0) return;
  const activity = await approvalActivity(
    ctx.app.store.db,
    idle.map((l) => l.id),
  );
  for (const live of idle) {
    const a = activity.get(live.id);
    if (a && (a.pending > 0 || now - a.lastAt <= live.init.idleTimeoutMs)) continue;
    await requestStop(
      ctx,
      live,
      'idle',
      `no output for ${formatDuration(live.init.idleTimeoutMs)}`,
    );
  }
}

/** How often, at most, Todo cards are checked (and at least twice per queue_timeout). */
const TODO_CHECK_MS = 5000;
const lastTodoCheck = new WeakMap<EngineContext, number>();

export async function requestStop(
  ctx: EngineContext,
  live: LiveRun,
  action: StopAction,
  reason: string,
): Promise<void> {
  if (live.stopRequested) return;
  const run = await getRun(ctx.app.store.db, live.id);
  if (!run) return;
  await ctx.app.store.tx((tx) => cancelActiveRun(ctx.app, tx, run, { action, reason }));
  stopLive(ctx, live);
}

/** Stop requests made anywhere (CLI, API, another monitor) for runs this worker supervises. */
export async function applyStopRequests(ctx: EngineContext): Promise<void> {
  if (ctx.live.size === 0) return;
  const runs = await listRuns(ctx.app.store.db, {
    workerId: ctx.worker.id,
    states: ['claimed', 'running'],
  });
  for (const r of runs) {
    const live = ctx.live.get(r.id);
    if (live && r.stop_requested_at !== null && !live.stopRequested) stopLive(ctx, live);
  }
}

export function stopLive(ctx: EngineContext, live: LiveRun): void {
  live.stopRequested = true;
  void live
    .terminate(ctx.app.config.defaults.stop_grace)
    .catch((e) => ctx.log.warn(`stopping run ${live.id} failed: ${(e as Error).message}`));
}

async function persistProgress(ctx: EngineContext, now: number): Promise<void> {
  const due = [...ctx.live.values()].filter(
    (l) => !l.hasExited && now - l.lastPersistAt >= PERSIST_EVERY_MS,
  );
  if (due.length === 0) return;
  await ctx.app.store.tx(async (tx) => {
    for (const l of due) {
      l.lastPersistAt = now;
      await updateRunFenced(tx, l.id, l.token, {
        last_output_at: l.lastOutputAt,
        output_bytes: l.outputBytes,
        cpu_ms: l.cpuMs,
        peak_rss_bytes: l.peakRssBytes,
      });
    }
  });
}

/** Runs waiting to start for longer than queue_timeout get the configured escalation, once. */
async function checkQueue(ctx: EngineContext, now: number): Promise<void> {
  const { app } = ctx;
  const d = app.config.defaults;
  const stale = await staleQueuedRuns(app.store.db, now - d.queue_timeout);
  for (const run of stale) {
    const waited = formatDuration(now - run.run_at);
    const task = formatTaskId(run.task_id);
    const unclaimable = await noWorkerRuns(app, run);
    let escalationTask: string | null = null;
    if (d.on_queue_timeout === 'escalate') {
      const t = await addTask(app, {
        title: `Escalation: ${task} has waited ${waited} to start`,
        body: `Run ${run.id} of ${task} (agent ${run.agent}) has been queued for ${waited}, longer than queue_timeout (${formatDuration(d.queue_timeout)}).\n\n${unclaimable ?? "Check the agent's capacity and dependencies, or reassign the task."}`,
        status: 'todo',
        agent: null,
        parent: null,
        labels: ['escalation'],
        priority: 'high',
      });
      escalationTask = t.id;
    }
    await app.store.tx(async (tx) => {
      const patch: Parameters<typeof updateRun>[2] = { stalled_at: tx.now };
      if (d.on_queue_timeout === 'reassign' && d.reassign_to && d.reassign_to !== run.agent) {
        patch.agent = d.reassign_to;
      }
      await updateRun(tx, run.id, patch);
      if (escalationTask !== null) {
        // Link the escalation card to the run it is about (tasks.escalated_from_run_id);
        // addTask has no such input, so without this the link column stayed null.
        await updateTask(tx, parseTaskId(escalationTask), { escalated_from_run_id: run.id });
      }
      if (d.on_queue_timeout === 'mark_stalled') {
        await updateTask(tx, run.task_id, {
          status_reason: `stalled: queued for ${waited} without starting`,
        });
      }
      await appendEvent(tx, 'run.queue_timeout', {
        taskId: run.task_id,
        runId: run.id,
        data: {
          action: d.on_queue_timeout,
          waitedMs: now - run.run_at,
          reassignedTo: patch.agent ?? null,
          escalationTask,
          reason: unclaimable,
        },
      });
    });
    ctx.log.warn(
      `run ${run.id} of ${task} has been queued for ${waited}${unclaimable ? `: ${unclaimable}` : ''} (${d.on_queue_timeout})`,
    );
    if (d.on_queue_timeout === 'reassign') ctx.wake();
  }
}

/** Why no live worker will claim a queued run, or null when one may (its labels name the agent). */
async function noWorkerRuns(app: App, run: RunRow): Promise<string | null> {
  const since = (await app.store.leaseNow()) - app.config.defaults.lease;
  const workers = await liveWorkers(app.store.db, since);
  if (workers.some((w) => (JSON.parse(w.labels) as string[]).includes(run.agent))) return null;
  return `no live worker runs agent ${run.agent}: start one that does (\`agentboard worker --labels ${run.agent}\`)`;
}

/** Why a Todo card cannot start by itself, saying what would let it. */
interface Stuck {
  task: TaskRow;
  reason: string;
  /** Stuck for this reason since (the card's or the dependency's last change). */
  since: number;
  /** The dependency it waits on, when that is the cause. */
  blocker: number | null;
  /** Another agent (on_queue_timeout: reassign) would let it start. */
  needsAgent: boolean;
}

/** The status reasons checkTodo writes: cleared again once their cause has gone. */
const STUCK_REASON =
  /^(waiting on T-\d+, which is (Blocked|Cancelled)|no agent|agent "[^"]*" is not configured): /;

/**
 * Todo cards that will never start by themselves (a dependency Blocked or
 * Cancelled, or, with autostart, no usable agent) get the queue escalation
 * after queue_timeout, once per cause. Whatever the action, the card's status
 * reason says why it waits, and a `task.todo_timeout` event records it.
 */
async function checkTodo(ctx: EngineContext, now: number): Promise<void> {
  const { app } = ctx;
  const db = app.store.db;
  const todo = await listTasks(db, { statuses: ['todo'] });
  if (todo.length === 0) return;
  const ids = new Set(todo.map((t) => t.id));
  const depIds = new Map<number, number[]>();
  for (const [task, dep] of await allDependencyEdges(db)) {
    if (ids.has(task)) depIds.set(task, [...(depIds.get(task) ?? []), dep]);
  }
  const deps = new Map(
    (await getTasks(db, [...new Set([...depIds.values()].flat())])).map((t) => [t.id, t]),
  );
  for (const task of todo) {
    const own = (depIds.get(task.id) ?? []).flatMap((d) => deps.get(d) ?? []);
    const stuck = whyStuck(app, task, own);
    if (stuck && task.status_reason === stuck.reason) continue;
    if (stuck && now - stuck.since >= app.config.defaults.queue_timeout) {
      await flagStuck(ctx, stuck, now);
    } else if (task.status_reason !== null && STUCK_REASON.test(task.status_reason)) {
      // The flag's cause has gone (or changed, and the new one is not due yet).
      await app.store.tx(async (tx) => {
        await updateTask(tx, task.id, { status_reason: null });
        await appendEvent(tx, 'task.updated', {
          taskId: task.id,
          data: { fields: ['statusReason'] },
        });
      });
    }
  }
}

const DEAD_END: Record<string, string> = { blocked: 'Blocked', cancelled: 'Cancelled' };

function whyStuck(app: App, task: TaskRow, deps: TaskRow[]): Stuck | null {
  const id = formatTaskId(task.id);
  const dead = deps.find((d) => DEAD_END[d.status] !== undefined);
  if (dead) {
    const dep = formatTaskId(dead.id);
    const fix = dead.status === 'blocked' ? `retry ${dep} (move it to Todo)` : `reopen ${dep}`;
    return {
      task,
      reason: `waiting on ${dep}, which is ${DEAD_END[dead.status]}: ${fix}, or drop the dependency (\`agentboard task edit ${id} --rm-dep ${dep}\`)`,
      since: Math.max(task.updated_at, dead.updated_at),
      blocker: dead.id,
      needsAgent: false,
    };
  }
  // Without autostart, a Todo card waits for someone to run it: no agent yet is no fault.
  if (!app.config.board.autostart) return null;
  const set = `\`agentboard task edit ${id} --agent <name>\``;
  let reason: string | null = null;
  if (task.agent === null) {
    // Escalation cards are for people: they have no agent on purpose.
    if ((JSON.parse(task.labels) as string[]).includes('escalation')) return null;
    reason = `no agent: set one (${set}) or move the card to Backlog`;
  } else if (!app.config.agents[task.agent]) {
    reason = `agent "${task.agent}" is not configured: add it under agents in ${app.paths.config}, or set another (${set})`;
  }
  if (reason === null) return null;
  return { task, reason, since: task.updated_at, blocker: null, needsAgent: true };
}

async function flagStuck(ctx: EngineContext, s: Stuck, now: number): Promise<void> {
  const { app } = ctx;
  const d = app.config.defaults;
  const action = d.on_queue_timeout;
  const id = formatTaskId(s.task.id);
  const waited = formatDuration(now - s.since);
  const reassignTo =
    action === 'reassign' && s.needsAgent && d.reassign_to && d.reassign_to !== s.task.agent
      ? d.reassign_to
      : null;
  const done = await app.store.tx(async (tx) => {
    // Touch the row first: on PostgreSQL this waits for another worker flagging
    // the same card, and the read below then sees its flag.
    await updateTask(tx, s.task.id, {});
    const fresh = await getTask(tx.db, s.task.id);
    if (fresh?.status !== 'todo' || fresh.agent !== s.task.agent) return null;
    if (fresh.status_reason === s.reason) return null;
    let escalationTask: string | null = null;
    if (reassignTo) {
      await updateTask(tx, s.task.id, { agent: reassignTo, status_reason: null });
      await maybeAutostart(app, tx, { ...fresh, agent: reassignTo, status_reason: null });
    } else {
      if (action === 'escalate') {
        const esc = await insertNewTask(tx, {
          title: `Escalation: ${id} has waited ${waited} in Todo`,
          body: `${id} has waited ${waited} in Todo, longer than queue_timeout (${formatDuration(d.queue_timeout)}), and cannot start by itself.\n\n${s.reason}`,
          status: 'todo',
          agent: null,
          labels: ['escalation'],
          priority: 'high',
        });
        escalationTask = formatTaskId(esc.id);
      }
      await updateTask(tx, s.task.id, { status_reason: s.reason });
    }
    await appendEvent(tx, 'task.todo_timeout', {
      taskId: s.task.id,
      data: {
        action,
        reason: s.reason,
        waitedMs: now - s.since,
        blockedBy: s.blocker === null ? null : formatTaskId(s.blocker),
        reassignedTo: reassignTo,
        escalationTask,
      },
    });
    return true;
  });
  if (done) ctx.log.warn(`${id} has waited ${waited} in Todo: ${s.reason} (${action})`);
}
