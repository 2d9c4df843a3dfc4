import fs from 'node:fs';
import path from 'node:path';
import { releaseClaim } from '../app/release-run.js';
import { runDir as runDirOf } from '../config/home.js';
import { stepRun } from '../domain/run.js';
import { hasEnvMarker, isSameProcess, processStartTime, readProcStat } from '../runner/proc.js';
import { markedProcesses, RUN_MARKER_ENV, thawRunTree } from '../runner/run-tree.js';
import { readExitFile } from '../runner/shim.js';
import { nextValue } from '../store/counters.js';
import { appendEvent } from '../store/events.js';
import { shippedBytes } from '../store/run-output.js';
import { getRun, listRuns, type RunRow, updateRunFenced } from '../store/runs.js';
import { leaseNow } from '../store/store.js';
import { getWorker } from '../store/workers.js';
import { attachTranscript } from './attach-transcript.js';
import type { EngineContext } from './context.js';
import { finalizeLiveRun } from './finalize.js';
import { LiveRun } from './live-run.js';
import { attachShipper } from './output-shipper.js';
import { retireWatchdogOf } from './watchdog.js';
import { isLocalWorkerDead } from './worker-identity.js';

/** A claimed run with no recorded pid is given this long to write shim.pid before it is judged. */
const SPAWN_GRACE_MS = 3000;

export interface ReconcileSummary {
  adopted: number;
  recorded: number;
  lost: number;
  /** Claimed and never spawned: back to queued, no attempt charged. */
  released: number;
  pending: number;
}

/**
 * Checks every claimed or running run that no live worker owns against
 * reality: re-adopt an agent that is still alive on this host, record an exit
 * that happened while nobody watched, and mark the rest lost (after which
 * the retry policy applies). Runs at startup and periodically.
 */
export async function reconcile(
  ctx: EngineContext,
  opts: { adopt: boolean } = { adopt: true },
): Promise<ReconcileSummary> {
  const summary: ReconcileSummary = { adopted: 0, recorded: 0, lost: 0, released: 0, pending: 0 };
  const { app } = ctx;
  // Lease expiry is judged on the clock leases are written with (the database's, on PostgreSQL).
  const now = await app.store.leaseNow();
  const runs = await listRuns(app.store.db, { states: ['claimed', 'running'], order: 'asc' });
  const deadWorkers = new Map<string, boolean>();
  for (const run of runs) {
    if (ctx.stopping) break;
    if (ctx.live.has(run.id) || ctx.launching.has(run.id) || run.worker_id === ctx.worker.id)
      continue;
    const workerId = run.worker_id ?? '';
    if (!deadWorkers.has(workerId)) {
      deadWorkers.set(
        workerId,
        isLocalWorkerDead(await getWorker(app.store.db, workerId), ctx.worker),
      );
    }
    const expired = (run.lease_expires_at ?? 0) <= now;
    if (!expired && !deadWorkers.get(workerId)) continue;
    const outcome = await reconcileRun(ctx, run, opts.adopt);
    summary[outcome]++;
  }
  ctx.observer.onReconciled(summary);
  return summary;
}

async function reconcileRun(
  ctx: EngineContext,
  run: RunRow,
  adopt: boolean,
): Promise<keyof ReconcileSummary> {
  const { app, worker } = ctx;
  const local = run.host === worker.host && run.boot_id === worker.bootId;
  const dir = runDirOf(app.paths, run.id);
  let pid = run.pid;
  let startTime = run.proc_start_time;
  if (local && pid === null) {
    // The previous worker died between spawn and recording the pid.
    const shimPid = readShimPid(dir) ?? markedLeader(run.id);
    if (shimPid !== null && hasEnvMarker(shimPid, RUN_MARKER_ENV, run.id)) {
      pid = shimPid;
      startTime = processStartTime(shimPid);
    } else if (app.clock.now() - (run.claimed_at ?? 0) < SPAWN_GRACE_MS && shimPid === null) {
      return 'pending'; // the shim may not have written its pid yet: look again next pass
    } else if (shimPid !== null) {
      // The shim has exited too. shim.pid, which it wrote into this run's own
      // directory, is still its pid and the id of the process group where the
      // agent's grandchildren may linger: record it, and let finalize clean
      // that group up (killGroupMembers checks each process's run marker).
      // Without this the run kept a NULL pid and those orphans lived on
      // (found by the chaos test: server SIGKILLed between spawn and the
      // "running" commit, agent done before the restart).
      pid = shimPid;
    }
  }
  if (run.state === 'claimed' && pid === null && neverSpawned(run, local, dir)) {
    const released = await releaseClaim(
      app,
      run,
      run.lease_token as number,
      `worker ${run.worker_id} stopped before starting it`,
    );
    if (released) ctx.log.info(`run ${run.id} was claimed but never started: queued again`);
    return released ? 'released' : 'pending';
  }
  const alive = local && pid !== null && startTime !== null && isSameProcess(pid, startTime);
  // A process that will not stay to watch a live agent leaves it to the next engine.
  if (alive && !adopt) return 'pending';

  // Take the lease over first: every write below is fenced by the new token.
  const taken = await app.store.tx(async (tx) => {
    const fresh = await getRun(tx.db, run.id);
    if (!fresh || fresh.lease_token !== run.lease_token) return null;
    const t = await nextValue(tx, 'lease');
    const ok = await updateRunFenced(tx, run.id, run.lease_token as number, {
      worker_id: worker.id,
      lease_token: t,
      lease_expires_at: (await leaseNow(tx)) + app.config.defaults.lease,
      ...(alive && run.state === 'claimed'
        ? {
            state: stepRun(run.state, { type: 'start' }),
            pid,
            pgid: pid,
            proc_start_time: startTime,
            started_at: tx.now,
          }
        : run.pid === null && pid !== null
          ? { pid, pgid: pid } // the exited shim's, see above
          : {}),
    });
    if (!ok) return null;
    await appendEvent(tx, alive ? 'run.adopted' : 'run.reconciled', {
      taskId: run.task_id,
      runId: run.id,
      data: { from: run.worker_id, to: worker.id },
    });
    // The row as of the takeover: the transcript resumes from its stored offset.
    return { token: t, row: fresh };
  });
  if (taken === null) return 'pending';
  const { token } = taken;
  // The dead worker's watchdog froze its agents: it must be gone before we
  // thaw one (after the takeover: were that refused, the agents keep it).
  if (alive && run.worker_id) await retireWatchdogOf(app, run.worker_id);

  const agent = app.config.agents[run.agent];
  const live = new LiveRun({
    id: run.id,
    taskId: run.task_id,
    agent: run.agent,
    runDir: dir,
    pid: pid ?? 0,
    pgid: local ? (run.pgid ?? pid ?? 0) : 0,
    startTime: startTime ?? 0,
    token,
    startedAt: run.started_at ?? app.clock.now(),
    timeoutMs: agent?.timeout ?? app.config.defaults.timeout,
    idleTimeoutMs: agent?.idle_timeout ?? app.config.defaults.idle_timeout,
    cwd: run.workdir ?? app.workdir,
    lostReason: local
      ? 'its process is gone and left no exit status (killed together with the server, or the machine restarted)'
      : `worker ${run.worker_id} on ${run.host} stopped renewing its lease`,
  });
  attachTranscript(ctx, live, taken.row);
  if (local && ctx.shipOutput) attachShipper(ctx, live, await shippedBytes(app.store.db, run.id));
  if (alive) {
    // Watched by our watchdog before it may run on.
    ctx.watchdog?.adopted(run.id);
    thawRunTree(run.id, live.init.pgid);
    live.lastOutputAt = Math.max(run.last_output_at ?? 0, fileMtime(dir));
    live.sample(app.clock.now());
    ctx.live.set(run.id, live);
    live.watchExit(() => void finalizeLiveRun(ctx, live));
    ctx.log.info(`re-adopted run ${run.id} (T-${run.task_id}, pid ${pid})`);
    return 'adopted';
  }
  const recorded = local && readExitFile(dir) !== null;
  ctx.live.set(run.id, live);
  await finalizeLiveRun(ctx, live);
  return recorded ? 'recorded' : 'lost';
}

/**
 * A claimed run with no pid on record: did its agent ever start? Here, the
 * shim writes shim.pid before anything else and every process of the run
 * carries its marker, so neither existing means it never did. On another
 * host nothing can be checked; its worker's watchdog stopped anything it
 * had started before the lease ran out (see watchdog.ts), so the run is
 * handed back rather than charged an attempt.
 */
function neverSpawned(run: RunRow, local: boolean, dir: string): boolean {
  if (!local) return true;
  if (markedProcesses(RUN_MARKER_ENV).has(run.id) || readExitFile(dir) !== null) return false;
  // A shim that could not write shim.pid (a full disk) may still have run the agent.
  return fileSize(path.join(dir, 'stdout.log')) + fileSize(path.join(dir, 'stderr.log')) === 0;
}

/** The run's process group leader (its shim), found by the run's marker. */
function markedLeader(runId: string): number | null {
  const pids = markedProcesses(RUN_MARKER_ENV).get(runId) ?? [];
  return pids.find((p) => readProcStat(p)?.pgrp === p) ?? null;
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function readShimPid(dir: string): number | null {
  try {
    const n = Number(fs.readFileSync(path.join(dir, 'shim.pid'), 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function fileMtime(dir: string): number {
  let t = 0;
  for (const f of ['stdout.log', 'stderr.log']) {
    try {
      t = Math.max(t, fs.statSync(path.join(dir, f)).mtimeMs);
    } catch {
      // absent
    }
  }
  return Math.round(t);
}
