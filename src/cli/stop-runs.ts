import type { App } from '../app/context.js';
import { findRun, findRuns, findWorker, type RunRow } from '../app/lookups.js';
import { resolveRun, stopRun } from '../app/runs.js';
import { type RunView, runView } from '../app/views.js';
import { ConflictError } from '../domain/errors.js';
import { isTerminalRun } from '../domain/run.js';
import { reconcileOnce } from '../engine/reconcile-once.js';
import {
  createWorkerIdentity,
  isLocalWorkerDead,
  type WorkerIdentity,
} from '../engine/worker-identity.js';
import { isSameProcess } from '../runner/proc.js';
import { killRunTree } from '../runner/run-tree.js';
import { stopGroup } from '../runner/signals.js';
import { printErr } from './output.js';

/**
 * What `stop` did to one run:
 * - ended: its end is recorded (the state says how);
 * - stopping: the engine that holds it is alive and was asked to end it;
 * - not_reached: it could not be stopped from here and nobody else will
 *   (`message` says why and what to do).
 */
export type StopResult = 'ended' | 'stopping' | 'not_reached';

export interface StopReport extends RunView {
  outcome: StopResult;
  message: string | null;
}

/** Without a live engine holding a run, this long is enough to record the ends here. */
const SETTLE_MS = 3000;
/** Between reconciliation passes while waiting for ends. */
const RECONCILE_EVERY_MS = 500;

/**
 * Stops runs from the CLI: the stop request is written first (so whoever
 * supervises the run knows why it ends), then an agent on this host (as
 * workerHost names it) is stopped directly, its whole tree included, so
 * `stop` works even with no engine running. The run's end is recorded by
 * the engine that holds it, or here when there is none.
 */
export async function stopRuns(
  app: App,
  o: { target?: string; all: boolean; force: boolean },
): Promise<StopReport[]> {
  const targets: RunRow[] = o.all
    ? await findRuns(app, { states: ['queued', 'claimed', 'running'] })
    : [await resolveRun(app, o.target as string, { activeOnly: true })];
  for (const run of targets) {
    try {
      await stopRun(app, run.id);
    } catch (e) {
      // Ended on its own meanwhile: nothing to stop.
      if (!(e instanceof ConflictError && e.code === 'run_not_active')) throw e;
    }
  }
  const self = createWorkerIdentity();
  const grace = o.force ? 0 : app.config.defaults.stop_grace;
  await Promise.all(
    targets.map(async (run) => {
      const fresh = await findRun(app, run.id);
      if (!fresh || !isHere(fresh, self)) return;
      const { pid, proc_start_time: start } = fresh;
      const pgid = fresh.pgid !== null && fresh.pgid > 1 ? fresh.pgid : 0;
      if (!o.force && pgid > 0 && pid !== null && start !== null)
        await stopGroup(pgid, { graceMs: grace, isGone: () => !isSameProcess(pid, start) });
      // What SIGTERM to the group could not reach (`setsid` escapees; a run
      // whose pid is not recorded yet), or all of it with --force.
      killRunTree(run.id, pgid);
    }),
  );
  const ids = targets.map((t) => t.id);
  // A live engine holding a run ends it after its own stop_grace: wait for that too.
  const deadline = Date.now() + SETTLE_MS + grace;
  let reconciledAt = 0;
  let rows: RunRow[] = [];
  let holders = new Map<string, string | null>();
  for (;;) {
    rows = (await Promise.all(ids.map((id) => findRun(app, id)))).filter(
      (r): r is RunRow => r !== undefined,
    );
    const active = rows.filter((r) => !isTerminalRun(r.state));
    holders = await liveHolders(app, active, self);
    if (active.length === 0 || Date.now() >= deadline) break;
    const orphaned = active.filter((r) => holders.get(r.id) === null);
    // Another host's run with nobody holding it does not change for waiting.
    if (orphaned.length === active.length && orphaned.every((r) => !isHere(r, self))) break;
    if (orphaned.some((r) => isHere(r, self)) && Date.now() - reconciledAt >= RECONCILE_EVERY_MS) {
      // Nobody else will record these ends: record what happened to them here.
      await reconcileOnce(app, { info: () => {}, warn: (m) => printErr(`warning: ${m}`) });
      reconciledAt = Date.now();
      continue;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return rows.map((r) => report(r, holders.get(r.id) ?? null, self));
}

/** The run's process lives here: recorded by a worker under this host name, in this boot. */
function isHere(r: RunRow, self: WorkerIdentity): boolean {
  return r.host === self.host && r.boot_id === self.bootId;
}

/**
 * Run id -> the live worker holding it (heartbeat within a lease, not
 * stopped, and, on this host, its process alive), or null for none.
 */
async function liveHolders(
  app: App,
  runs: RunRow[],
  self: WorkerIdentity,
): Promise<Map<string, string | null>> {
  const now = await app.store.leaseNow();
  const since = now - app.config.defaults.lease;
  const out = new Map<string, string | null>();
  for (const r of runs) {
    const w = r.worker_id === null ? undefined : await findWorker(app, r.worker_id);
    const alive =
      w !== undefined &&
      w.stopped_at === null &&
      w.heartbeat_at >= since &&
      !isLocalWorkerDead(w, self);
    const age = alive ? Math.round((now - w.heartbeat_at) / 1000) : 0;
    out.set(r.id, alive ? `${w.id} on ${w.host} (last heartbeat ${age} s ago)` : null);
  }
  return out;
}

function report(r: RunRow, holder: string | null, self: WorkerIdentity): StopReport {
  const view = runView(r);
  if (isTerminalRun(r.state)) return { ...view, outcome: 'ended', message: null };
  if (holder !== null)
    return {
      ...view,
      outcome: 'stopping',
      message: `stop requested; worker ${holder} is ending it`,
    };
  return { ...view, outcome: 'not_reached', message: notReached(r, self) };
}

function notReached(r: RunRow, self: WorkerIdentity): string {
  const task = runView(r).task;
  if (r.host !== null && r.host !== self.host) {
    return `still ${r.state} on host ${r.host} (this is ${self.host}), and no engine is alive there to stop it. Run \`agentboard stop ${task}\` on ${r.host} (with AGENTBOARD_HOST=${r.host} if its engine was started so), or start its engine there: it will carry out the stop request, which is recorded`;
  }
  if (r.host !== null && r.boot_id !== self.bootId) {
    return `still ${r.state}: it was started before this machine last booted, so its process is gone; its end is recorded once its lease expires and an engine (\`agentboard serve\`) runs`;
  }
  if (r.pid !== null && r.proc_start_time !== null && isSameProcess(r.pid, r.proc_start_time)) {
    return `still ${r.state}: its process ${r.pid} did not exit after SIGKILL; see \`ps -o pid,stat,cmd -g ${r.pgid ?? r.pid}\``;
  }
  return `still ${r.state}: its end could not be recorded yet; start \`agentboard serve\` to record it`;
}
