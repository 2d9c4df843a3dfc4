import os from 'node:os';
import type { App } from '../app/context.js';
import { resolveRun, stopRun } from '../app/runs.js';
import { type RunView, runView } from '../app/views.js';
import { engineIsRunning } from '../app/workers.js';
import { ConflictError } from '../domain/errors.js';
import { isTerminalRun, type RunState } from '../domain/run.js';
import { reconcileOnce } from '../engine/reconcile-once.js';
import { bootId, isSameProcess } from '../runner/proc.js';
import { signalGroup, stopGroup } from '../runner/signals.js';
import { getRun, listRuns, type RunRow } from '../store/runs.js';
import { printErr } from './output.js';

/**
 * Stops runs from the CLI: the stop request is written first (so whoever
 * supervises the run knows why it ends), then a local agent is signalled
 * directly, so `stop` works even with no engine running. The run's end is
 * recorded by the engine, or here when there is none.
 */
export async function stopRuns(
  app: App,
  o: { target?: string; all: boolean; force: boolean },
): Promise<RunView[]> {
  const targets: RunRow[] = o.all
    ? await listRuns(app.store.db, { states: ['queued', 'claimed', 'running'] })
    : [await resolveRun(app, o.target as string, { activeOnly: true })];
  for (const run of targets) {
    try {
      await stopRun(app, run.id);
    } catch (e) {
      // Ended on its own meanwhile: nothing to stop.
      if (!(e instanceof ConflictError && e.code === 'run_not_active')) throw e;
    }
  }
  const grace = o.force ? 0 : app.config.defaults.stop_grace;
  await Promise.all(
    targets.map(async (run) => {
      const fresh = await getRun(app.store.db, run.id);
      if (!fresh || fresh.pid === null || fresh.proc_start_time === null || fresh.pgid === null)
        return;
      if (fresh.host !== os.hostname() || fresh.boot_id !== bootId()) return;
      const { pid, pgid, proc_start_time: start } = fresh;
      if (o.force) {
        if (isSameProcess(pid, start)) signalGroup(pgid, 'SIGKILL');
        return;
      }
      await stopGroup(pgid, { graceMs: grace, isGone: () => !isSameProcess(pid, start) });
    }),
  );
  // Give a running engine a moment to record the ends; otherwise record them here.
  const deadline = Date.now() + 3000;
  const ids = targets.map((t) => t.id);
  while (Date.now() < deadline) {
    const rows = await Promise.all(ids.map((id) => getRun(app.store.db, id)));
    if (rows.every((r) => !r || isTerminalRun(r.state as RunState))) break;
    if (!(await engineIsRunning(app))) {
      await reconcileOnce(app, {
        info: () => {},
        warn: (m) => printErr(`warning: ${m}`),
      });
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  const rows = await Promise.all(ids.map((id) => getRun(app.store.db, id)));
  return rows.filter((r): r is RunRow => r !== undefined).map(runView);
}
