import path from 'node:path';
import { adapterFor } from '../agents/registry.js';
import { finishRun } from '../app/finish-run.js';
import { commitRunWork } from '../app/workspaces.js';
import { classifyExit, formatDuration } from '../domain/exit.js';
import { decideRunEnd } from '../domain/run-end.js';
import { RUN_MARKER_ENV } from '../runner/run-tree.js';
import { readExitFile } from '../runner/shim.js';
import { killGroupMembers } from '../runner/signals.js';
import { getRun, type RunRow } from '../store/runs.js';
import { isTransientStoreFault } from '../store/store-faults.js';
import { getTask } from '../store/tasks.js';
import { recordApprovals } from './approval-transcript.js';
import { type Completion, checkCompletion, readTail } from './completion.js';
import type { EngineContext } from './context.js';
import type { LiveRun } from './live-run.js';
import { judgeLiveRun } from './run-verdict.js';
import { killDeadlineMs } from './watchdog.js';

const STDERR_TAIL_BYTES = 2000;
/** Recording an end that failed on a database fault is tried again after 250 ms, doubling up to 10 s. */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;
/** Failed tries so far, per run whose end is not recorded yet. */
const failedTries = new WeakMap<LiveRun, number>();

/**
 * The supervisor of a live run has exited: record how the run ended, clean up
 * what it left behind, and let the board's follow-up (retry, loop, column)
 * happen in the same transaction (finishRun).
 */
export async function finalizeLiveRun(ctx: EngineContext, live: LiveRun): Promise<void> {
  const { app } = ctx;
  if (live.finalizing) return;
  live.finalizing = true;
  let retryLater = false;
  try {
    live.sample(app.clock.now());
    // Store the whole transcript (and final usage) before the run is ended.
    if (!live.finalizePending) {
      // Asked and decided since the last pass: shown before the transcript closes.
      await recordApprovals(ctx, [live]).catch((e) =>
        ctx.log.warn(`approval lines of ${live.id}: ${(e as Error).message}`),
      );
      await live.transcript?.finish();
      await readUsageAfterExit(ctx, live);
    }
    await live.stderrWatch?.finish();
    await live.shipper?.finish();
    // Grandchildren still in the group after the agent exited are orphans.
    if (live.init.pgid > 1)
      killGroupMembers(live.init.pgid, { key: RUN_MARKER_ENV, value: live.id });
    const run = await getRun(app.store.db, live.id);
    if (!run || run.lease_token !== live.token) return;
    const exit = readExitFile(live.init.runDir);
    const exitCode = exit?.code ?? live.observed?.code ?? null;
    let stderrRead: string | null = null;
    // Read only for a run that did not succeed: most runs never need it.
    const stderrTail = () =>
      (stderrRead ??= readTail(path.join(live.init.runDir, 'stderr.log'), STDERR_TAIL_BYTES));
    const agent = app.config.agents[run.agent];
    await live.versionRead;
    // SIGKILLed though nobody here asked, with renewals overdue: this
    // worker's watchdog stopped it before its lease could run out.
    const unrenewedMs = performance.now() - live.leaseConfirmedAt;
    if (
      !live.gaveUp &&
      !live.stopRequested &&
      ctx.watchdog !== null &&
      (exitCode === 137 || live.observed?.signal === 'SIGKILL') &&
      unrenewedMs >= killDeadlineMs(app.config.defaults.lease)
    ) {
      live.gaveUp = `the watchdog of worker ${ctx.worker.id} stopped it: no lease renewal for ${Math.round(unrenewedMs / 1000)} s (the database unreachable, or the worker stuck)`;
    }
    const decision = live.gaveUp
      ? { state: 'lost' as const, ...classifyExit({ kind: 'lost', reason: live.gaveUp }) }
      : judgeLiveRun(
          decideRunEnd({
            stopAction: run.stop_action,
            stopReason: run.stop_reason,
            exitCode,
            exitSignal: exit ? null : (live.observed?.signal ?? null),
            lostReason:
              live.init.lostReason ??
              'the agent supervisor disappeared without recording an exit status',
            timeoutMs: live.init.timeoutMs,
            idleTimeoutMs: live.init.idleTimeoutMs,
          }),
          {
            stopped: run.stop_action !== null,
            agent: run.agent,
            adapter: agent ? adapterFor(run.agent, agent) : null,
            version: live.cliVersion ?? run.cli_version,
            transcript: live.transcript,
            exitCode,
            stderrTail,
          },
        );
    // Before the end is recorded, so a crash in between only means committing again (a no-op).
    const commitAfter = await commitWork(ctx, run, decision.state);
    let completion: Completion = { complete: false, verified: false };
    if (decision.state === 'succeeded') {
      const task = await getTask(app.store.db, run.task_id);
      if (task) {
        completion = await checkCompletion({
          cwd: live.init.cwd,
          runDir: live.init.runDir,
          doneFile: task.loop_done_file,
          verifyCommand: task.verify_command,
          timeoutMs: live.init.timeoutMs,
          env: process.env,
        });
      }
    }
    // A recognised failure is said in one sentence: the stderr tail (a stack trace, raw JSON) adds noise.
    const shownTail = decision.state === 'succeeded' || !decision.retryable ? '' : stderrTail();
    const applied = await finishRun(app, live.id, live.token, {
      state: decision.state,
      exitCode,
      exitSignal: exit ? null : (live.observed?.signal ?? null),
      reason: decision.reason,
      retryable: decision.retryable,
      stderrTail: shownTail,
      ...completion,
      endedAt: exit?.endedAt ?? app.clock.now(),
      cpuMs: live.cpuMs,
      peakRssBytes: live.peakRssBytes,
      outputBytes: live.outputBytes,
      ...(commitAfter !== undefined ? { commitAfter } : {}),
    });
    if (applied)
      ctx.log.info(`run ${live.id} (T-${live.init.taskId}) ${decision.state}: ${decision.reason}`);
  } catch (e) {
    // A database fault (locked, disk full, read-only) ends when the user acts
    // or the lock is let go: keep the run and record its end here then, from
    // what this worker saw (the exit status its spawner reported). Left to
    // the reconciler, an exit whose exit.json could not be written on a full
    // disk would be judged lost. On PostgreSQL the same holds for any error:
    // the lease's next holder may sit on another host, where this exit is
    // invisible. Otherwise (one host, not a fault) the run leaves `live`, and
    // the reconciler records the exit once the lease expires.
    retryLater = !ctx.stopping && (app.store.dialect.multiHost || isTransientStoreFault(e));
    live.finalizePending = retryLater;
    const delay = retryLater ? scheduleRetry(ctx, live) : 0;
    ctx.log.warn(
      `could not record the end of run ${live.id}: ${(e as Error).message}${retryLater ? `; retrying in ${formatDuration(delay)}` : ''}`,
    );
  } finally {
    live.finalizing = false;
    if (!retryLater) {
      live.close();
      ctx.live.delete(live.id);
      ctx.wake();
    }
  }
}

/**
 * Tries recording the end again after a pause that doubles with each failure
 * (capped), for as long as the run is this worker's: lease renewal drops it
 * from `ctx.live` once its lease was taken over. Returns the pause.
 */
function scheduleRetry(ctx: EngineContext, live: LiveRun): number {
  const tries = (failedTries.get(live) ?? 0) + 1;
  failedTries.set(live, tries);
  const delay = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** (tries - 1));
  // The monitor pass retries pending ends too, FINALIZE_RETRY_MS after the
  // last try: dated ahead, it leaves the pace to this backoff.
  live.lastFinalizeTry = ctx.app.clock.now() + delay;
  ctx.app.clock
    .setTimeout(() => {
      if (!ctx.stopping && ctx.live.get(live.id) === live && live.finalizePending)
        return finalizeLiveRun(ctx, live);
      return undefined;
    }, delay)
    .unref();
  return delay;
}

/** For CLIs that write their usage only to their own session files (Copilot CLI). */
async function readUsageAfterExit(ctx: EngineContext, live: LiveRun): Promise<void> {
  const agent = ctx.app.config.agents[live.init.agent];
  const sessionId = live.transcript?.sessionId;
  if (!agent || !sessionId || !live.transcript) return;
  const adapter = adapterFor(live.init.agent, agent);
  if (!adapter.usageAfterExit) return;
  const env = { ...process.env, ...agent.env };
  await live.transcript.acceptLate(adapter.usageAfterExit({ sessionId, env }));
}

/**
 * Commits what a worktree run left. A failing commit (a broken repository)
 * must not keep the run from ending: it is logged and the run records no
 * after-commit. undefined when the run has no worktree.
 */
async function commitWork(
  ctx: EngineContext,
  run: RunRow,
  outcome: string,
): Promise<string | null | undefined> {
  if (run.commit_before === null) return undefined;
  try {
    return await commitRunWork(ctx.app, run, outcome);
  } catch (e) {
    ctx.log.warn(`could not commit the work of run ${run.id}: ${(e as Error).message}`);
    return null;
  }
}
