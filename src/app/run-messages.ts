/**
 * The bus messages every run posts by itself: RUN_START when its agent is
 * running, RUN_STOP (with the error summary) when it ends. Each is written in
 * the transaction that records the start or the end, so the bus never says
 * a run started that did not, or misses an end.
 */
import { formatDuration } from '../domain/exit.js';
import type { RunState } from '../domain/run.js';
import type { RunRow } from '../store/runs.js';
import type { Tx } from '../store/store.js';
import { postMessageInTx } from './messages.js';

export async function postRunStart(tx: Tx, run: RunRow, pid: number): Promise<void> {
  const loop = run.iteration > 1 ? `, iteration ${run.iteration}` : '';
  const resume = run.resume_session_id ? `, resuming session ${run.resume_session_id}` : '';
  await postMessageInTx(tx, {
    taskId: run.task_id,
    runId: run.id,
    type: 'RUN_START',
    author: run.agent,
    body: `run ${run.id} started (${run.trigger}, attempt ${run.attempt}/${run.max_attempts}${loop}${resume}, pid ${pid})`,
  });
}

/** `run` is the row as it was before the end was recorded; `summary` is null on success. */
export async function postRunStop(
  tx: Tx,
  run: RunRow,
  end: { state: RunState; exitCode: number | null; endedAt: number },
  summary: string | null,
): Promise<void> {
  // A queued run that is cancelled never started: there is nothing to stop.
  if (run.state === 'queued') return;
  const took =
    run.started_at !== null ? ` after ${formatDuration(end.endedAt - run.started_at)}` : '';
  const exit = end.exitCode !== null ? ` (exit ${end.exitCode})` : '';
  await postMessageInTx(tx, {
    taskId: run.task_id,
    runId: run.id,
    type: 'RUN_STOP',
    author: run.agent,
    body: `run ${run.id} ${end.state}${exit}${took}${summary ? `: ${summary}` : ''}`,
  });
}
