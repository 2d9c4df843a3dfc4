import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isSameProcess, sampleGroupUsage } from '../runner/proc.js';
import { stopGroup } from '../runner/signals.js';
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

export interface ExitObservation {
  code: number | null;
  signal: string | null;
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
  private exited = false;
  private watcher: fs.FSWatcher | null = null;
  private onExitCb: ((o: ExitObservation | null) => void) | null = null;

  constructor(init: LiveRunInit) {
    this.init = init;
    this.token = init.token;
    this.lastOutputAt = init.startedAt;
  }

  get id(): string {
    return this.init.id;
  }

  /** Calls `cb` once when the agent's supervisor has exited. */
  watchExit(child: ChildProcess | null, cb: (o: ExitObservation | null) => void): void {
    this.onExitCb = cb;
    if (child) {
      child.once('exit', (code, signal) => this.fireExit({ code, signal }));
      return;
    }
    // Adopted after a restart: not our child, so watch for exit.json and
    // check the process itself on every monitor tick (see pollExit).
    try {
      this.watcher = fs.watch(this.init.runDir, (_e, name) => {
        if (name === 'exit.json') this.fireExit(null);
      });
      this.watcher.on('error', () => {});
    } catch {
      // the periodic check covers it
    }
    this.pollExit();
  }

  /** For adopted runs: notices a supervisor that died without a watch event. */
  pollExit(): void {
    if (this.exited) return;
    if (fs.existsSync(path.join(this.init.runDir, 'exit.json'))) this.fireExit(null);
    else if (!isSameProcess(this.init.pid, this.init.startTime)) this.fireExit(null);
  }

  private fireExit(o: ExitObservation | null): void {
    if (this.exited) return;
    this.exited = true;
    this.watcher?.close();
    this.onExitCb?.(o);
  }

  get hasExited(): boolean {
    return this.exited;
  }

  /** Output growth (for the idle monitor) and CPU/memory of the process group. */
  sample(now: number): void {
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
    if (this.exited) return;
    const u = sampleGroupUsage(this.init.pgid);
    if (u.processes > 0) {
      this.cpuMs = Math.max(this.cpuMs, u.cpuMs);
      this.peakRssBytes = Math.max(this.peakRssBytes, u.rssBytes);
    }
  }

  /** SIGTERM the group, SIGKILL after the grace. The exit watcher then finalizes the run. */
  async terminate(graceMs: number): Promise<void> {
    await stopGroup(this.init.pgid, {
      graceMs,
      isGone: () => this.exited || !isSameProcess(this.init.pid, this.init.startTime),
    });
  }

  close(): void {
    this.watcher?.close();
  }
}
