import type { StopAction } from '../app/finish-run.js';
import { cancelActiveRun } from '../app/runs.js';
import { addTask } from '../app/tasks.js';
import { formatDuration } from '../domain/exit.js';
import { formatTaskId, parseTaskId } from '../domain/ids.js';
import { sampleGroups } from '../runner/proc.js';
import { appendEvent } from '../store/events.js';
import { getRun, listRuns, staleQueuedRuns, updateRun, updateRunFenced } from '../store/runs.js';
import { updateTask } from '../store/tasks.js';
import type { EngineContext } from './context.js';
import { finalizeLiveRun } from './finalize.js';
import type { LiveRun } from './live-run.js';

const PERSIST_EVERY_MS = 5000;
const FINALIZE_RETRY_MS = 2000;

/**
 * One pass of the run monitors: output and resources of live runs, the
 * wall-clock timeout, the idle timeout, stop requests, and runs queued too
 * long. Each verdict is written to the DB before anything is killed, so a
 * crash in between loses no decision.
 */
export async function monitorTick(ctx: EngineContext): Promise<void> {
  const now = ctx.app.clock.now();
  const usage = sampleGroups(new Set([...ctx.live.values()].map((l) => l.init.pgid)));
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
      await requestStop(
        ctx,
        live,
        'idle',
        `no output for ${formatDuration(live.init.idleTimeoutMs)}`,
      );
    }
  }
  await applyStopRequests(ctx);
  await persistProgress(ctx, now);
  await checkQueue(ctx, now);
}

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
    let escalationTask: string | null = null;
    if (d.on_queue_timeout === 'escalate') {
      const t = await addTask(app, {
        title: `Escalation: ${task} has waited ${waited} to start`,
        body: `Run ${run.id} of ${task} (agent ${run.agent}) has been queued for ${waited}, longer than queue_timeout (${formatDuration(d.queue_timeout)}).\n\nCheck the agent's capacity and dependencies, or reassign the task.`,
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
        },
      });
    });
    ctx.log.warn(`run ${run.id} of ${task} has been queued for ${waited} (${d.on_queue_timeout})`);
    if (d.on_queue_timeout === 'reassign') ctx.wake();
  }
}
