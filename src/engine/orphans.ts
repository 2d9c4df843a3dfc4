import { settleLateSuccess } from '../app/late-exit.js';
import { runDir } from '../config/home.js';
import { isTerminalRun } from '../domain/run.js';
import { readProcStat } from '../runner/proc.js';
import { killRunTree, markedProcesses, RUN_MARKER_ENV } from '../runner/run-tree.js';
import { readExitFile } from '../runner/shim.js';
import { listRuns } from '../store/runs.js';
import type { EngineContext } from './context.js';

/**
 * Before a worker adopts or claims anything: agents still alive on this host
 * whose runs have already ended on the board (recorded lost by another host,
 * cancelled, timed out while nobody could stop them) are killed, whole tree.
 * They are found by their run marker, so a process that left its group is
 * found too. Processes of runs this board does not know (another board on
 * the same machine) are never touched.
 */
export async function sweepOrphans(ctx: EngineContext): Promise<number> {
  const found = markedProcesses(RUN_MARKER_ENV);
  if (found.size === 0) return 0;
  const rows = await listRuns(ctx.app.store.db, { ids: [...found.keys()] });
  let killed = 0;
  for (const run of rows) {
    if (!isTerminalRun(run.state)) continue;
    if (run.host !== ctx.worker.host) continue;
    const pids = found.get(run.id) ?? [];
    const leader = pids.find((p) => readProcStat(p)?.pgrp === p) ?? pids[0];
    if (leader === undefined) continue;
    killRunTree(run.id, readProcStat(leader)?.pgrp ?? leader);
    ctx.log.warn(
      `run ${run.id} ended as ${run.state}, but its agent was still running here: killed`,
    );
    killed++;
  }
  return killed;
}

/** How far back a starting worker looks for lost runs that finished after all. */
const LATE_EXIT_WINDOW_MS = 24 * 3600_000;

/**
 * Runs of this host recorded lost whose agent, its exit.json says, ended
 * with 0: the agent finished in the instant its worker died, and another
 * host took the run over without seeing that. See late-exit.ts.
 */
export async function settleLateExits(ctx: EngineContext): Promise<number> {
  const { app } = ctx;
  const since = app.clock.now() - LATE_EXIT_WINDOW_MS;
  const lost = await listRuns(app.store.db, { states: ['lost'], limit: 500 });
  let settled = 0;
  for (const run of lost) {
    if (run.host !== ctx.worker.host || (run.ended_at ?? 0) < since) continue;
    if (readExitFile(runDir(app.paths, run.id))?.code !== 0) continue;
    if (await settleLateSuccess(app, run)) {
      ctx.log.warn(
        `run ${run.id} was recorded lost, but its agent had finished (exit 0): its retry was cancelled and the card moved to Review`,
      );
      settled++;
    }
  }
  return settled;
}
