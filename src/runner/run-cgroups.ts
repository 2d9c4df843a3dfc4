/**
 * A cgroup v2 of its own for each run, where the machine allows it: found
 * from /proc/self/mountinfo, under the cgroup this process is in when we may
 * write there. AGENTBOARD_CGROUPS=off turns it off. See run-tree.ts for how
 * runs are reached with it, and without.
 */
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';

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
export function existingCgroup(runId: string, pgid: number): string | null {
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
export function wasJoined(dir: string): boolean {
  return isPopulated(dir) || (readKey(join(dir, 'cpu.stat'), 'usage_usec') ?? 0) > 0;
}

export function cgroupProcs(dir: string): number[] {
  try {
    return readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export function writeControl(dir: string, file: string, value: string): boolean {
  try {
    writeFileSync(join(dir, file), value);
    return true;
  } catch {
    return false;
  }
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
