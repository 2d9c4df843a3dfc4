/**
 * Linux /proc helpers. Synchronous and cheap: each call reads a few small
 * pseudo-files. Every reader tolerates the process vanishing under it, because
 * processes we inspect are, by nature, free to exit at any moment.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** R, S, D, Z (zombie), T, t, X, I ... */
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Field 22: start time in clock ticks since boot. Stable for the life of the process. */
  startTime: number;
  utimeTicks: number;
  stimeTicks: number;
  /** Reaped children's CPU time, so a group's usage does not drop when a child exits. */
  cutimeTicks: number;
  cstimeTicks: number;
  rssPages: number;
}

export function readProcStat(pid: number): ProcStat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // comm (field 2) may contain spaces and parentheses; it ends at the LAST ')'.
  const close = text.lastIndexOf(')');
  if (close < 0) return null;
  // f[0] is field 3 (state), so field N is f[N - 3].
  const f = text.slice(close + 2).split(' ');
  const num = (field: number): number => Number(f[field - 3]);
  const stat: ProcStat = {
    pid,
    state: f[0] ?? '',
    ppid: num(4),
    pgrp: num(5),
    session: num(6),
    utimeTicks: num(14),
    stimeTicks: num(15),
    cutimeTicks: num(16),
    cstimeTicks: num(17),
    startTime: num(22),
    rssPages: num(24),
  };
  return Number.isFinite(stat.startTime) && Number.isFinite(stat.pgrp) ? stat : null;
}

function isDead(state: string): boolean {
  return state === 'Z' || state === 'X';
}

export function processStartTime(pid: number): number | null {
  return readProcStat(pid)?.startTime ?? null;
}

/** Alive (not a zombie) AND the same process we recorded: guards against pid reuse. */
export function isSameProcess(pid: number, startTime: number): boolean {
  const stat = readProcStat(pid);
  return stat !== null && !isDead(stat.state) && stat.startTime === startTime;
}

/**
 * Whether the process's initial environment holds `key=value`. This is the
 * environment given at exec; a process that later edits its own environ is not
 * seen, which is fine for a marker we set and nobody has a reason to remove.
 */
export function hasEnvMarker(pid: number, key: string, value: string): boolean {
  let env: Buffer;
  try {
    env = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  const want = Buffer.from(`${key}=${value}`);
  let start = 0;
  while (start < env.length) {
    let end = env.indexOf(0, start);
    if (end < 0) end = env.length;
    if (end - start === want.length && env.compare(want, 0, want.length, start, end) === 0) {
      return true;
    }
    start = end + 1;
  }
  return false;
}

/**
 * Pids whose process group is `pgid`. Zombies are left out by default: they
 * run nothing, cannot be signalled away, and one whose parent never reaps it
 * (a container without an init) would otherwise look like a live group forever.
 */
export function listProcessGroup(pgid: number, opts: { includeZombies?: boolean } = {}): number[] {
  return scanGroup(pgid, opts.includeZombies ?? false).map((s) => s.pid);
}

function scanGroup(pgid: number, includeZombies: boolean): ProcStat[] {
  return scanProcesses((s) => s.pgrp === pgid && (includeZombies || !isDead(s.state)));
}

/** The names of /proc's pid directories: every process visible now. */
export function procPids(): string[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  return names.filter((name) => {
    const c = name.charCodeAt(0);
    return c >= 48 && c <= 57;
  });
}

function scanProcesses(keep: (s: ProcStat) => boolean): ProcStat[] {
  const out: ProcStat[] = [];
  for (const name of procPids()) {
    const stat = readProcStat(Number(name)); // null if it exited mid-scan
    if (stat !== null && keep(stat)) out.push(stat);
  }
  return out;
}

let clockTicks: number | undefined;
let pageSize: number | undefined;

/** `getconf` once, lazily: spawning it costs milliseconds, so never on a hot path twice. */
function getconf(name: string, fallback: number): number {
  try {
    const v = Number(execFileSync('getconf', [name], { encoding: 'utf8', timeout: 2000 }).trim());
    return Number.isInteger(v) && v > 0 ? v : fallback;
  } catch {
    return fallback;
  }
}

export function clockTicksPerSecond(): number {
  clockTicks ??= getconf('CLK_TCK', 100);
  return clockTicks;
}

export function pageSizeBytes(): number {
  pageSize ??= getconf('PAGESIZE', 4096);
  return pageSize;
}

export interface GroupUsage {
  /** CPU time of live members plus the children they have reaped. */
  cpuMs: number;
  rssBytes: number;
  processes: number;
}

export function sampleGroupUsage(pgid: number): GroupUsage {
  return sampleGroups(new Set([pgid])).get(pgid) ?? { cpuMs: 0, rssBytes: 0, processes: 0 };
}

/**
 * Usage of several process groups from one pass over /proc: the monitors
 * sample every live run each tick, and a pass per run would cost
 * runs × processes reads.
 */
export function sampleGroups(pgids: ReadonlySet<number>): Map<number, GroupUsage> {
  // No live run: no need to read every process's stat (a monitor pass, every second).
  if (pgids.size === 0) return new Map();
  const acc = new Map<number, { ticks: number; pages: number; processes: number }>();
  for (const s of scanProcesses((st) => pgids.has(st.pgrp) && !isDead(st.state))) {
    const a = acc.get(s.pgrp) ?? { ticks: 0, pages: 0, processes: 0 };
    a.ticks += s.utimeTicks + s.stimeTicks + s.cutimeTicks + s.cstimeTicks;
    a.pages += s.rssPages;
    a.processes++;
    acc.set(s.pgrp, a);
  }
  const out = new Map<number, GroupUsage>();
  for (const [pgid, a] of acc) {
    out.set(pgid, {
      cpuMs: Math.round((a.ticks * 1000) / clockTicksPerSecond()),
      rssBytes: a.pages * pageSizeBytes(),
      processes: a.processes,
    });
  }
  return out;
}

let cachedBootId: string | undefined;

/** Identifies this boot: a pid recorded under another boot id is certainly gone. */
export function bootId(): string {
  cachedBootId ??= readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return cachedBootId;
}
