/**
 * The watchdog of one worker: a small detached process that makes sure the
 * worker's agents never outlive its supervision unnoticed (DESIGN §11).
 *
 * The worker holds the write end of this process's stdin and writes `r`
 * after every lease renewal that committed. So:
 * - Renewals stop while the worker lives (partitioned from the database, its
 *   event loop stuck): once the last one is older than the kill deadline,
 *   every agent of the worker is killed, before its lease can run out and
 *   the run be retried on another host.
 * - The worker dies (kill -9, crash) or stops: stdin ends at once. Its agents
 *   are frozen on the spot (SIGSTOP; their supervisor shims stay awake, so
 *   an agent that had already exited gets its exit.json), so none can finish
 *   unrecorded while nobody
 *   watches, and the ends that happened just before (an agent done, its
 *   worker killed before recording it) are recorded now, from this host's
 *   exit.json files, while no other host may yet take those runs over. The
 *   next worker on this host adopts (thaws) the frozen agents, first retiring
 *   this process with SIGTERM. Still here at the kill deadline means nobody
 *   adopted anything: every agent of the worker is killed, the ends are
 *   recorded, and this process exits.
 *
 * The worker's agents are found by their environment markers (the worker id
 * for the runs it started, the run id for those it adopted and announced
 * with `a <run id>`), so nothing needs registering per run, and a run
 * spawned at the instant the worker died is found as well.
 *
 * argv: worker id, kill deadline in ms after the last renewal, pid file (the
 * worker writes it; this process removes it), log file. The environment is
 * the worker's, with its board's home and database.
 */
import { appendFileSync, rmSync } from 'node:fs';
import { readProcStat } from '../runner/proc.js';
import { freezeRunTree, killRunTree, markedProcesses, RUN_MARKER_ENV } from '../runner/run-tree.js';
import { WORKER_MARKER_ENV } from '../runner/worker-marker.js';

const [workerId = '', deadlineArg = '', pidFile = '', logFile = ''] = process.argv.slice(2);
const killAfterMs = Number(deadlineArg);
const adopted = new Set<string>();
let lastRenewal = performance.now();
let open = true;

function log(line: string): void {
  if (!logFile) return;
  try {
    appendFileSync(logFile, `${new Date().toISOString()} watchdog ${workerId}: ${line}\n`, {
      mode: 0o600,
    });
  } catch {
    // a full or read-only disk must not stop the watchdog
  }
}

interface RunProcesses {
  runId: string;
  pgid: number;
  pid: number;
}

/** The worker's agents now: started by it, or adopted by it. */
function agentsOfWorker(): RunProcesses[] {
  const mine = new Set(markedProcesses(WORKER_MARKER_ENV).get(workerId) ?? []);
  const found: RunProcesses[] = [];
  for (const [runId, pids] of markedProcesses(RUN_MARKER_ENV)) {
    if (!adopted.has(runId) && !pids.some((p) => mine.has(p))) continue;
    // The shim leads the run's process group; any member tells its group.
    const pid = pids.find((p) => readProcStat(p)?.pgrp === p) ?? pids[0];
    if (pid === undefined) continue;
    found.push({ runId, pid, pgid: readProcStat(pid)?.pgrp ?? pid });
  }
  return found;
}

/** Kills every agent of the worker, whole tree. */
function killAll(why: string): number {
  let n = 0;
  for (const a of agentsOfWorker()) {
    killRunTree(a.runId, a.pgid);
    log(`killed run ${a.runId} (group ${a.pgid}): ${why}`);
    n++;
  }
  return n;
}

let recording: Promise<void> | null = null;
let retiring = false;

/**
 * One reconciliation pass, as `agentboard stop` makes with no engine up:
 * ends on record in exit.json are recorded, processes gone without one are
 * recorded lost; live (frozen) agents are left for the next worker. Loaded
 * only when needed: the watchdog idles small.
 */
function recordEnds(): Promise<void> {
  recording ??= (async () => {
    try {
      const { openApp } = await import('../app/context.js');
      const { reconcileOnce } = await import('./reconcile-once.js');
      const app = await openApp();
      try {
        const s = await reconcileOnce(app, { info: log, warn: log });
        log(`recorded ${s.recorded} end(s) and ${s.lost} lost run(s); ${s.pending} left frozen`);
      } finally {
        await app.store.close();
      }
    } catch (e) {
      log(`could not record the ends: ${(e as Error).message}`);
    } finally {
      recording = null;
      if (retiring) finish();
    }
  })();
  return recording;
}

function finish(): never {
  rmSync(pidFile, { force: true });
  process.exit(0);
}

process.stdin.on('data', (chunk: Buffer) => {
  for (const line of chunk.toString('utf8').split('\n')) {
    if (line === 'r') lastRenewal = performance.now();
    else if (line.startsWith('a ')) adopted.add(line.slice(2));
  }
});

process.stdin.on('end', () => {
  open = false;
  const freeze = () => {
    const agents = agentsOfWorker();
    for (const a of agents) freezeRunTree(a.runId, a.pgid);
    return agents.length;
  };
  log(`worker gone; froze ${freeze()} run(s) for the next worker on this host to adopt`);
  // Again until the deadline: an agent its spawner started after the worker died.
  const refreeze = setInterval(freeze, TICK_MS);
  // Armed now, whatever the recording does: a database that hangs must not keep an agent alive.
  setTimeout(
    async () => {
      clearInterval(refreeze);
      // Still here, so no successor retired us: nothing was adopted, all of it is ours to stop.
      if (killAll('no worker adopted it before its lease could run out') > 0) await recordEnds();
      finish();
    },
    Math.max(0, lastRenewal + killAfterMs - performance.now()),
  );
  void recordEnds();
});

// A successor adopts the frozen agents: leave them to it, once a recording pass has ended.
process.on('SIGTERM', () => {
  retiring = true;
  if (recording === null) finish();
});
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

const TICK_MS = 250;
setInterval(() => {
  // While renewals are overdue, every tick: an agent whose launch finishes now must not run on.
  if (!open || performance.now() - lastRenewal < killAfterMs) return;
  killAll('its worker renews no lease (database unreachable, or the worker is stuck)');
}, TICK_MS).unref();
