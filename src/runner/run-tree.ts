/**
 * Reaching every process of a run, including those that left its process
 * group (`setsid`, daemons), to stop, freeze, thaw or kill them.
 *
 * Two mechanisms, best first:
 * - cgroup v2: each run gets its own cgroup, which the shim joins before the
 *   agent starts, so every descendant is in it whatever its session.
 *   cgroup.kill and cgroup.freeze then act on all of them at once, atomically
 *   with respect to forks. Only a process that moves itself to another
 *   cgroup (which takes root) gets out.
 * - Elsewhere (no cgroup2, read-only, not delegated, AGENTBOARD_CGROUPS=off):
 *   the run's process group, plus every process whose environment carries
 *   the run's marker (RUN_MARKER_ENV=<run id>), which escapees inherit.
 *   A process that clears its environment and leaves the group is missed.
 *
 * A cgroup that exists but was never joined (the shim has not got there yet,
 * or its write failed) is not trusted alone: the signal path is used too.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { listProcessGroup, procPids, readProcStat } from './proc.js';
import { cgroupProcs, existingCgroup, wasJoined, writeControl } from './run-cgroups.js';

export { cgroupRoot, removeRunCgroup, runCgroupPath } from './run-cgroups.js';

/** Every agent process carries `RUN_MARKER_ENV=<run id>` in its environment. */
export const RUN_MARKER_ENV = 'AGENTBOARD_RUN_ID';

/** One buffer for every environ read: half the cost of readFileSync's per-file allocations. */
let envBuf: Buffer | undefined;

/** /proc/<pid>/environ (a view valid until the next call), or null if unreadable. */
function readEnviron(pid: string): Buffer | null {
  envBuf ??= Buffer.allocUnsafe(64 * 1024);
  let fd: number;
  try {
    fd = openSync(`/proc/${pid}/environ`, 'r');
  } catch {
    return null;
  }
  try {
    const n = readSync(fd, envBuf, 0, envBuf.length, 0);
    // Larger than the buffer: rare enough to read whole.
    return n < envBuf.length ? envBuf.subarray(0, n) : readFileSync(`/proc/${pid}/environ`);
  } catch {
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * run id -> pids of live processes carrying `markerKey=<run id>`, from one
 * pass over every /proc/<pid>/environ. Unreadable ones (another user's) are skipped;
 * a zombie's environ reads empty, so zombies drop out by themselves.
 */
export function markedProcesses(markerKey: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const needle = Buffer.from(`\0${markerKey}=`);
  const first = needle.subarray(1);
  for (const name of procPids()) {
    const env = readEnviron(name);
    if (env === null) continue;
    let at = env.subarray(0, first.length).equals(first) ? first.length : -1;
    if (at < 0) {
      const i = env.indexOf(needle);
      if (i < 0) continue;
      at = i + needle.length;
    }
    let end = env.indexOf(0, at);
    if (end < 0) end = env.length;
    const id = env.toString('latin1', at, end);
    const pids = out.get(id);
    if (pids) pids.push(Number(name));
    else out.set(id, [Number(name)]);
  }
  return out;
}

interface TreeOptions {
  /** The environment marker's name, RUN_MARKER_ENV unless a caller marks its processes otherwise. */
  markerKey?: string;
  /**
   * Signal the process group as a whole (members that cleared their
   * environment included). Off, only marked members are reached.
   */
  wholeGroup?: boolean;
}

/** Scans of the signal path: a process forked while one scan ran is caught by the next. */
const MAX_PASSES = 4;

/**
 * Sends `signal` to every process carrying the run's marker and, with
 * `wholeGroup`, to its process group. The group is only signalled when one of
 * its members carries the marker: a non-empty group's number is never
 * reused, so it is then still the run's. Unlike cgroup.kill this is not
 * atomic: a scan that finds a process not signalled yet (forked meanwhile)
 * is followed by another. Returns how many processes were signalled.
 */
function signalTree(
  runId: string,
  pgid: number,
  signal: NodeJS.Signals,
  o: TreeOptions = {},
): number {
  const hit = new Set<number>();
  let groupDone = !(o.wholeGroup ?? true) || !Number.isInteger(pgid) || pgid <= 1;
  for (let pass = 0; pass < MAX_PASSES; pass++) {
    const marked = (markedProcesses(o.markerKey ?? RUN_MARKER_ENV).get(runId) ?? []).filter(
      (p) => p !== process.pid && !hit.has(p),
    );
    if (marked.length === 0) break;
    if (!groupDone && marked.some((p) => readProcStat(p)?.pgrp === pgid)) {
      groupDone = true;
      const members = listProcessGroup(pgid);
      try {
        process.kill(-pgid, signal);
        for (const p of members) hit.add(p);
      } catch {
        // the group emptied meanwhile
      }
    }
    for (const p of marked) {
      if (hit.has(p)) continue;
      try {
        process.kill(p, signal);
        hit.add(p);
      } catch {
        // exited meanwhile
      }
    }
  }
  return hit.size;
}

/**
 * The run's processes other than its supervisor shim (the group leader,
 * pid === pgid): the cgroup's members and every marked process.
 */
function agentProcesses(runId: string, pgid: number): number[] {
  const cg = existingCgroup(runId, pgid);
  const pids = new Set(cg === null ? [] : cgroupProcs(cg));
  for (const p of markedProcesses(RUN_MARKER_ENV).get(runId) ?? []) pids.add(p);
  pids.delete(pgid);
  pids.delete(process.pid);
  return [...pids];
}

function signalEach(pids: number[], signal: NodeJS.Signals): void {
  for (const p of pids) {
    try {
      process.kill(p, signal);
    } catch {
      // exited meanwhile
    }
  }
}

/**
 * Stops (SIGSTOP) every process of the run but its supervisor shim. The shim
 * stays awake on purpose: an agent that had already exited when the freeze
 * came still gets its exit.json written, so its end can be recorded; a
 * stopped agent cannot exit, and its shim just waits. (cgroup.freeze would
 * stop the shim too, which is why it is not used.) A process forked while
 * the pass ran is caught by a second one.
 */
export function freezeRunTree(runId: string, pgid: number): void {
  const stopped = new Set<number>();
  for (let pass = 0; pass < 2; pass++) {
    const fresh = agentProcesses(runId, pgid).filter((p) => !stopped.has(p));
    if (fresh.length === 0) return;
    signalEach(fresh, 'SIGSTOP');
    for (const p of fresh) stopped.add(p);
  }
}

/** The reverse of freezeRunTree: SIGCONT to every process of the run. */
export function thawRunTree(runId: string, pgid: number): void {
  signalEach(agentProcesses(runId, pgid), 'SIGCONT');
  const cg = existingCgroup(runId, pgid);
  // A cgroup frozen by an earlier build thaws too.
  if (cg !== null) writeControl(cg, 'cgroup.freeze', '0');
}

/** Some process of the run (its shim aside) is stopped: frozen, and not yet thawed. */
export function isRunTreeFrozen(runId: string, pgid: number): boolean {
  return agentProcesses(runId, pgid).some((p) => readProcStat(p)?.state === 'T');
}

/**
 * SIGKILLs every process of the run: cgroup.kill (frozen members included),
 * else the group plus every marked process. Returns how many were signalled.
 */
export function killRunTree(runId: string, pgid: number, o: TreeOptions = {}): number {
  const cg = existingCgroup(runId, pgid);
  let n = 0;
  if (cg !== null) {
    const procs = cgroupProcs(cg);
    if (procs.length > 0 && writeControl(cg, 'cgroup.kill', '1')) n += procs.length;
    if (wasJoined(cg)) return n;
  }
  return n + signalTree(runId, pgid, 'SIGKILL', o);
}
