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
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { listProcessGroup, procPids, readProcStat } from './proc.js';

/** Every agent process carries `RUN_MARKER_ENV=<run id>` in its environment. */
export const RUN_MARKER_ENV = 'AGENTBOARD_RUN_ID';

const DIR_NAME = 'agentboard';
/** Run ids are generated (ULID-like): anything else never names a cgroup. */
const SAFE_ID = /^[A-Za-z0-9_-]+$/;
/** An unpopulated run cgroup older than this was left behind (a crash, a busy rmdir). */
const STALE_MS = 60_000;

interface Mount {
  /** Where the cgroup2 hierarchy is mounted here. */
  point: string;
  /** Which of its directories that mount shows (not `/` inside a bind mount). */
  root: string;
}

let mountCache: Mount | null | undefined;
let rootCache: string | null | undefined;

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

function cgroup2Mount(): Mount | null {
  if (mountCache !== undefined) return mountCache;
  mountCache = null;
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [left, right] = line.split(' - ');
      if (right?.split(' ')[0] !== 'cgroup2') continue;
      const f = (left ?? '').split(' ');
      if (f[3] === undefined || f[4] === undefined) continue;
      mountCache = { root: unescapeMount(f[3]), point: unescapeMount(f[4]) };
      break;
    }
  } catch {
    // no /proc: no cgroups
  }
  return mountCache;
}

/** The directory of a cgroup v2 path (`0::/a/b`) under our mount, or null if the mount does not show it. */
function cgroupDir(mount: Mount, path: string): string | null {
  const rel = relative(mount.root, path);
  if (rel.startsWith('..')) return null;
  return join(mount.point, rel);
}

function procCgroup(pid: number | 'self'): string | null {
  try {
    const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8')
      .split('\n')
      .find((l) => l.startsWith('0::'));
    return line === undefined ? null : line.slice(3);
  } catch {
    return null;
  }
}

/** We may create run cgroups in `dir` and move our children into them from `base`. */
function usable(base: string, dir: string): boolean {
  try {
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return false;
    }
    // Moving a process needs write access to cgroup.procs of the source, the target and their common ancestor.
    accessSync(join(base, 'cgroup.procs'), constants.W_OK);
    accessSync(join(dir, 'cgroup.procs'), constants.W_OK);
    // cgroup.kill arrived in Linux 5.14, cgroup.freeze in 5.2.
    return existsSync(join(dir, 'cgroup.kill')) && existsSync(join(dir, 'cgroup.freeze'));
  } catch {
    return false;
  }
}

function probeRoot(): string | null {
  if (process.env.AGENTBOARD_CGROUPS === 'off') return null;
  const mount = cgroup2Mount();
  if (mount === null) return null;
  const own = procCgroup('self');
  const ownDir = own === null ? null : cgroupDir(mount, own);
  // Under our own cgroup first (what a delegated service or user session may write), else the top.
  const bases = ownDir !== null && ownDir !== mount.point ? [ownDir, mount.point] : [mount.point];
  for (const base of bases) {
    const dir = join(base, DIR_NAME);
    if (usable(base, dir)) {
      removeStale(dir);
      return dir;
    }
  }
  return null;
}

/** Empty run cgroups left by crashes: a live run's shim joins its cgroup within moments of its creation. */
function removeStale(root: string): void {
  try {
    const now = Date.now();
    for (const e of readdirSync(root, { withFileTypes: true })) {
      if (!e.isDirectory() || !SAFE_ID.test(e.name)) continue;
      const dir = join(root, e.name);
      if (now - statSync(dir).mtimeMs > STALE_MS && !isPopulated(dir)) tryRmdir(dir);
    }
  } catch {
    // best effort
  }
}

/**
 * The directory under which each run gets its own cgroup v2, created if
 * needed; null when cgroup v2 is not mounted, not writable or not
 * delegated to us, or when AGENTBOARD_CGROUPS=off. Probed once.
 */
export function cgroupRoot(): string | null {
  if (rootCache === undefined) rootCache = probeRoot();
  return rootCache;
}

/** Where the run's cgroup is (or would be); not created. */
export function runCgroupPath(runId: string): string | null {
  const root = cgroupRoot();
  return root === null || !SAFE_ID.test(runId) ? null : join(root, runId);
}

/**
 * The run's cgroup if it exists: ours, or (a process with another root, such
 * as a CLI in another cgroup) the one the group leader is in, named for the run.
 */
function existingCgroup(runId: string, pgid: number): string | null {
  const own = runCgroupPath(runId);
  if (own !== null && existsSync(own)) return own;
  const mount = cgroupRoot() === null ? null : cgroup2Mount();
  if (mount === null || !(pgid > 1)) return null;
  const path = procCgroup(pgid);
  if (path === null || path.slice(path.lastIndexOf('/') + 1) !== runId) return null;
  return cgroupDir(mount, path);
}

function readKey(file: string, key: string): number | null {
  try {
    const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(readFileSync(file, 'utf8'));
    return m?.[1] === undefined ? null : Number(m[1]);
  } catch {
    return null;
  }
}

function isPopulated(dir: string): boolean {
  return readKey(join(dir, 'cgroup.events'), 'populated') === 1;
}

/** Some process has been in it: it has members now, or has used CPU (core cpu.stat is always there). */
function wasJoined(dir: string): boolean {
  return isPopulated(dir) || (readKey(join(dir, 'cpu.stat'), 'usage_usec') ?? 0) > 0;
}

function cgroupProcs(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function writeControl(dir: string, file: string, value: string): boolean {
  try {
    writeFileSync(join(dir, file), value);
    return true;
  } catch {
    return false;
  }
}

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

function tryRmdir(dir: string): 'done' | 'busy' {
  try {
    rmdirSync(dir);
    return 'done';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EBUSY' ? 'busy' : 'done';
  }
}

/** Delays before retrying a busy rmdir: killed members take a moment to leave. */
const RMDIR_RETRY_MS = [20, 100, 500, 2000];

/**
 * Removes the run's cgroup once it is empty; silent if absent. While members
 * are still dying it retries a few times in the background; what is left
 * after that is removed as stale by a later probe.
 */
export function removeRunCgroup(runId: string): void {
  const dir = runCgroupPath(runId);
  if (dir === null) return;
  const attempt = (i: number): void => {
    if (tryRmdir(dir) === 'done') return;
    const delay = RMDIR_RETRY_MS[i];
    if (delay !== undefined) setTimeout(() => attempt(i + 1), delay).unref();
  };
  attempt(0);
}
