/**
 * How a run ends: its record, then the board's follow-up (a retry, the next
 * loop iteration, or the card's new column), in one transaction.
 */
import { errorSummary } from '../domain/exit.js';
import { planFollowUp } from '../domain/follow-up.js';
import { formatTaskId } from '../domain/ids.js';
import {
  isTerminalRun,
  type StopAction,
  stepRunEnd,
  type TerminalRunState,
} from '../domain/run.js';
import { stepTask } from '../domain/task.js';
import { appendEvent } from '../store/events.js';
import { getRun, RunMovedError, type RunRow, updateRun } from '../store/runs.js';
import type { Tx } from '../store/store.js';
import { getTask, updateTask } from '../store/tasks.js';
import { cancelApprovalsOfRun } from './approval-expiry.js';
import type { App } from './context.js';
import {
  enqueueRun,
  finishWaitingParent,
  onTaskFinished,
  openSubtasks,
  WAITING_FOR_SUBTASKS,
} from './queue.js';
import { postRunStop } from './run-messages.js';

/** What a requested stop leads to: block the card, cancel the task, or a monitor's verdict. */
export type { StopAction };

/** How much of the last verify output a loop's Blocked card quotes. */
const VERIFY_TAIL_CHARS = 2000;

export interface RunEnd {
  state: TerminalRunState;
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
  /** The task branch's head once the run's work was committed (worktree runs). */
  commitAfter?: string | null;
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
  // Grouped: a busy worker records many ends at once (see GroupCommit).
  return app.store.txGrouped(async (tx) => {
    const run = await getRun(tx.db, runId);
    if (!run || isTerminalRun(run.state)) return false;
    if (leaseToken !== null && run.lease_token !== leaseToken) return false;
    try {
      await finishRunInTx(app, tx, run, end);
    } catch (e) {
      // Ended or taken over by someone else since it was read: nothing was written.
      if (e instanceof RunMovedError) return false;
      throw e;
    }
    return true;
  });
}

export async function finishRunInTx(app: App, tx: Tx, run: RunRow, end: RunEnd): Promise<void> {
  const action = run.stop_action;
  const taskCancelled = end.taskCancelled ?? action === 'cancel';
  const summary = end.state === 'succeeded' ? null : errorSummary(end, end.stderrTail);
  await updateRun(tx, run.id, {
    state: stepRunEnd(run.state, end),
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
    ...(end.commitAfter !== undefined ? { commit_after: end.commitAfter } : {}),
  });
  // No one is left to act on a decision: its pending requests end with it.
  await cancelApprovalsOfRun(tx, run);
  await appendEvent(tx, 'run.finished', {
    taskId: run.task_id,
    runId: run.id,
    data: {
      state: end.state,
      exitCode: end.exitCode,
      reason: end.state === 'succeeded' ? null : end.reason,
    },
  });
  await postRunStop(tx, run, { ...end, endedAt: end.endedAt ?? tx.now }, summary);
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
      verifyExitCode: end.verify?.exitCode ?? null,
      denials: run.denials,
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
  const from = task.status;
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
      // A parent is not Done before its subtasks: it waits in Review, saying for which.
      const open = follow.to === 'done' ? await openSubtasks(tx, task.id) : [];
      const step = stepTask(
        from,
        { type: 'run_succeeded', to: open.length > 0 ? 'review' : follow.to },
        formatTaskId(task.id),
      );
      const to = step.to;
      const reason =
        open.length > 0
          ? `${WAITING_FOR_SUBTASKS}${open.map((c) => `${formatTaskId(c.id)} (${c.status})`).join(', ')}`
          : follow.note;
      await updateTask(tx, task.id, { status: step, status_reason: reason });
      await appendEvent(tx, 'task.moved', { taskId: task.id, data: { from, to } });
      if (to === 'done') await onTaskFinished(app, tx, task.id);
      return;
    }
    case 'block': {
      const step = stepTask(from, { type: 'run_gave_up' }, formatTaskId(task.id));
      // DESIGN §3: a Blocked card carries the error summary, i.e. the classified
      // exit *and* the stderr tail; follow.reason alone dropped the tail, so the
      // card never said what the agent printed before giving up.
      const verifyTail = end.verify?.output.trim().slice(-VERIFY_TAIL_CHARS);
      const reason = errorSummary(
        { ...end, reason: follow.reason },
        verifyTail ? `last verify output:\n${verifyTail}` : end.stderrTail,
      );
      await updateTask(tx, task.id, { status: step, status_reason: reason });
      await appendEvent(tx, 'task.moved', {
        taskId: task.id,
        data: { from, to: step.to, reason },
      });
      return;
    }
    case 'cancel': {
      const step = stepTask(from, { type: 'cancel' }, formatTaskId(task.id));
      await updateTask(tx, task.id, { status: step, status_reason: end.reason });
      await appendEvent(tx, 'task.moved', { taskId: task.id, data: { from, to: step.to } });
      await finishWaitingParent(app, tx, task.id);
      return;
    }
  }
}
