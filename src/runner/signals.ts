/**
 * Signalling process groups. The agent is a group leader (setsid), so one
 * kill(-pgid) reaches it and every descendant that stayed in its group.
 *
 * Why a pgid is safe to signal while the group has members: Linux never hands
 * out a pid number that is still in use as some process's pgid, so a non-empty
 * group is still ours. Only once it is empty can the number come back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentboardError } from '../domain/errors.js';
import { listProcessGroup, readProcStat } from './proc.js';
import { killRunTree, removeRunCgroup } from './run-tree.js';

let ownPgrp: number | undefined;

/** kill(-1) would hit every process we may signal, kill(0) our own group: refuse both, and ours. */
function assertForeignGroup(pgid: number): void {
  ownPgrp ??= readProcStat(process.pid)?.pgrp ?? -1;
  if (!Number.isInteger(pgid) || pgid <= 1 || pgid === ownPgrp) {
    throw new AgentboardError('invalid_pgid', `refusing to signal process group ${pgid}`);
  }
}

/** true if the signal was sent, false if no such group (ESRCH). */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  assertForeignGroup(pgid);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

export type StopOutcome = 'terminated' | 'killed' | 'gone';

export interface StopOptions {
  /** How long the group gets after SIGTERM before SIGKILL. */
  graceMs: number;
  /**
   * The caller's identity check, asked before anything is sent, e.g.
   * `() => !isSameProcess(pid, startTime)`. When it says the process we meant
   * is gone, nothing is signalled: the pgid may have been reused. Orphans left
   * in the old group are then for killGroupMembers, which checks each one.
   */
  isGone: () => boolean;
  pollMs?: number;
}

/**
 * SIGTERM the group; wait up to graceMs for every member to exit; then
 * SIGKILL it. "killed" means SIGKILL was needed (the group is then gone
 * within a moment: we wait up to a second for the kernel to finish).
 */
export async function stopGroup(pgid: number, opts: StopOptions): Promise<StopOutcome> {
  const pollMs = opts.pollMs ?? 50;
  if (opts.isGone() || listProcessGroup(pgid).length === 0) return 'gone';
  if (!signalGroup(pgid, 'SIGTERM')) return 'gone';

  const deadline = Date.now() + opts.graceMs;
  for (let left = opts.graceMs; left > 0; left = deadline - Date.now()) {
    await sleep(Math.min(pollMs, left));
    if (listProcessGroup(pgid).length === 0) return 'terminated';
  }
  if (listProcessGroup(pgid).length === 0 || !signalGroup(pgid, 'SIGKILL')) return 'terminated';

  const killDeadline = Date.now() + 1000;
  while (listProcessGroup(pgid).length > 0 && Date.now() < killDeadline) await sleep(10);
  return 'killed';
}

/**
 * Once the agent has exited, SIGKILL what it left behind and remove the
 * run's cgroup: everything in that cgroup, or (no cgroup) every process
 * carrying the run's environment marker, in the group or out of it (`setsid`
 * escapees). Unmarked members of the group are left alone: the pgid number
 * may have been reused. Returns how many processes were signalled.
 */
export function killGroupMembers(pgid: number, marker: { key: string; value: string }): number {
  assertForeignGroup(pgid);
  const killed = killRunTree(marker.value, pgid, { markerKey: marker.key, wholeGroup: false });
  removeRunCgroup(marker.value);
  return killed;
}
