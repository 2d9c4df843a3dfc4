import crypto from 'node:crypto';
import os from 'node:os';
import { bootId, isSameProcess, processStartTime } from '../runner/proc.js';
import type { WorkerRow } from '../store/workers.js';

/** Who this process is, as recorded on the runs it claims. */
export interface WorkerIdentity {
  id: string;
  host: string;
  bootId: string;
  pid: number;
  startTime: number | null;
}

/**
 * The name this host goes by on runs and workers: AGENTBOARD_HOST where
 * hostnames are not unique (containers), also how tests stand several hosts
 * up on one machine; else the hostname. Every "is this run on this host?"
 * asks this, so a process named by AGENTBOARD_HOST is never mistaken for
 * another.
 */
export function workerHost(): string {
  return process.env.AGENTBOARD_HOST || os.hostname();
}

export function createWorkerIdentity(): WorkerIdentity {
  const host = workerHost();
  return {
    id: `${host}:${process.pid}:${crypto.randomBytes(3).toString('hex')}`,
    host,
    bootId: bootId(),
    pid: process.pid,
    startTime: processStartTime(process.pid),
  };
}

/**
 * Whether a worker on this machine has certainly died: same host and boot,
 * and its process is gone (or the pid now belongs to someone else). Its runs
 * can then be taken over at once instead of waiting for their leases.
 */
export function isLocalWorkerDead(w: WorkerRow | undefined, self: WorkerIdentity): boolean {
  if (!w || w.host !== self.host || w.boot_id !== self.bootId) return false;
  if (w.id === self.id) return false;
  if (w.proc_start_time === null) return false;
  return !isSameProcess(w.pid, Number(w.proc_start_time));
}
