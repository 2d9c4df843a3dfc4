import fs from 'node:fs';
import path from 'node:path';
import { type GroupUsage, isSameProcess } from '../runner/proc.js';
import { killRunTree } from '../runner/run-tree.js';
import { readExitFile } from '../runner/shim.js';
import { stopGroup } from '../runner/signals.js';
import type { OutputShipper } from './output-shipper.js';
import type { StderrWatch } from './stderr-watch.js';
import type { TranscriptTail } from './transcript.js';

export interface LiveRunInit {
  id: string;
  taskId: number;
  agent: string;
  runDir: string;
  pid: number;
  pgid: number;
  startTime: number;
  token: number;
  startedAt: number;
  timeoutMs: number;
  idleTimeoutMs: number;
  cwd: string;
  /** Said of the run if its supervisor vanishes without an exit status. */
  lostReason?: string;
}

/**
 * A run this worker supervises: the process handle, output progress and
 * resource peaks. Process facts only; every decision is written to the DB.
 */
export class LiveRun {
  readonly init: LiveRunInit;
  token: number;
  lastOutputAt: number;
  outputBytes = 0;
  cpuMs = 0;
  peakRssBytes = 0;
  lastPersistAt = 0;
  stopRequested = false;
  /** Parses stdout into stored events while the run lives. */
  transcript: TranscriptTail | null = null;
  /** Ships the logs to the database (PostgreSQL: they may be read from another host). */
  shipper: OutputShipper | null = null;
  /** Reads stderr for CLIs that print their retry notices only there. */
  stderrWatch: StderrWatch | null = null;
  /** The agent CLI's version, once read (recorded on the run). */
  cliVersion: string | null = null;
  /** Settles once the version has been read (or could not be). */
  versionRead: Promise<void> = Promise.resolve();
  /**
   * When the lease was last known good, on this process's monotonic clock
   * (performance.now at the start of a renewal that succeeded). With the
   * database out of reach past `this + lease`, another worker may own the run.
   */
  leaseConfirmedAt = performance.now();
  /** Set once the worker gave the run up itself (its lease ran out while the database was away). */
  gaveUp: string | null = null;
  /** Its end could not be recorded yet (the database was out of reach): retried. */
  finalizePending = false;
  lastFinalizeTry = 0;
  finalizing = false;
  private exited = false;
  private watcher: fs.FSWatcher | null = null;
  private onExitCb: (() => void) | null = null;
  /** How the supervisor ended, when its parent (the spawner) told us. */
  observed: { code: number | null; signal: string | null } | null = null;

  constructor(init: LiveRunInit) {
    this.init = init;
    this.token = init.token;
    this.lastOutputAt = init.startedAt;
  }

  get id(): string {
    return this.init.id;
  }

  /**
   * Calls `cb` once the agent's supervisor has exited. For a supervisor this
   * worker's spawner started, the spawner reports its exit (after reaping it,
   * so its group is then empty unless something was left behind): pass
   * `watch: false`. Otherwise (an adopted run, or its spawner died) a
   * complete exit.json is watched for with inotify. A supervisor that died
   * without writing one is found gone by a monitor pass.
   */
  watchExit(cb: () => void, opts: { watch: boolean } = { watch: true }): void {
    this.onExitCb = cb;
    if (opts.watch) this.watchExitFile();
  }

  /** Falls back to inotify on exit.json: the spawner that would have reported the exit is gone. */
  watchExitFile(): void {
    if (this.exited || this.watcher) return;
    try {
      this.watcher = fs.watch(this.init.runDir, (_e, name) => {
        if (name === 'exit.json' && readExitFile(this.init.runDir)) this.fireExit();
      });
      this.watcher.on('error', () => {});
    } catch {
      // the periodic check covers it
    }
    this.pollExit();
  }

  /** The spawner saw the supervisor exit: exit.json, if any, is complete by now. */
  supervisorExited(code: number | null, signal: string | null): void {
    this.observed = { code, signal };
    this.fireExit();
  }

  /** Notices an exit without a watch event (missed, or no exit.json at all). */
  pollExit(): void {
    if (this.exited) return;
    if (readExitFile(this.init.runDir) || !isSameProcess(this.init.pid, this.init.startTime)) {
      this.fireExit();
    }
  }

  private fireExit(): void {
    if (this.exited) return;
    this.exited = true;
    this.watcher?.close();
    this.onExitCb?.();
  }

  get hasExited(): boolean {
    return this.exited;
  }

  /**
   * Output growth (for the idle monitor) and CPU/memory of the process group,
   * from `usage` (one /proc pass for all runs, see sampleGroups) when given.
   */
  sample(now: number, usage?: Map<number, GroupUsage>): void {
    let size = 0;
    for (const f of ['stdout.log', 'stderr.log']) {
      try {
        size += fs.statSync(path.join(this.init.runDir, f)).size;
      } catch {
        // not created yet
      }
    }
    if (size !== this.outputBytes) {
      this.outputBytes = size;
      this.lastOutputAt = now;
    }
    if (this.exited || !usage) return;
    const u = usage.get(this.init.pgid);
    if (u && u.processes > 0) {
      this.cpuMs = Math.max(this.cpuMs, u.cpuMs);
      this.peakRssBytes = Math.max(this.peakRssBytes, u.rssBytes);
    }
  }

  /**
   * SIGTERM the group, SIGKILL after the grace; then SIGKILL what is left of
   * the run outside the group (`setsid` escapees: its cgroup, or its marked
   * processes). The exit watcher then finalizes the run.
   */
  async terminate(graceMs: number): Promise<void> {
    const { pgid } = this.init;
    await stopGroup(pgid, {
      graceMs,
      isGone: () => this.exited || !isSameProcess(this.init.pid, this.init.startTime),
    });
    if (pgid > 1) killRunTree(this.id, pgid);
  }

  /** Releases the watchers and the transcript reader; the agent itself is left alone. */
  close(): void {
    this.watcher?.close();
    this.transcript?.stop();
    this.stderrWatch?.stop();
    this.shipper?.stop();
  }
}
