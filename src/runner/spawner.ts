import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentboardError } from '../domain/errors.js';
import { type SpawnOptions, spawnSupervised } from './supervisor.js';

export interface SpawnRequest {
  id: number;
  opts: SpawnOptions;
  /** Written to opts.stdinFile before the agent starts. */
  prompt?: string;
}

export type SpawnResponse =
  | { id: number; ok: true; pid: number; pgid: number; startTime: number }
  | { id: number; ok: false; code: string; message: string };

/** The shim `exit` (a pid) has exited; sent by the helper after the spawn's response. */
export interface SpawnerExit {
  exit: number;
  code: number | null;
  signal: string | null;
}

export type ExitListener = (code: number | null, signal: string | null) => void;

export interface Spawned {
  pid: number;
  pgid: number;
  startTime: number;
}

const HELPER = fileURLToPath(new URL('./spawner-process.js', import.meta.url));

/**
 * Starts agents through the spawner helper process (see spawner-process.ts).
 * If the helper cannot run, agents are spawned from this process instead:
 * slower, never wrong. Exits are observed through exit.json either way.
 */
export class Spawner {
  private helper: ChildProcess | null = null;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (s: Spawned) => void; reject: (e: Error) => void }
  >();
  private broken = false;
  private readonly exitListeners = new Map<number, ExitListener>();
  /** Exits that arrived before anyone asked (kept briefly, by pid). */
  private readonly earlyExits = new Map<number, [number | null, string | null]>();

  /** Calls `cb` when the shim with this pid exits (if this spawner started it). */
  onExit(pid: number, cb: ExitListener): void {
    const early = this.earlyExits.get(pid);
    if (early) {
      this.earlyExits.delete(pid);
      cb(early[0], early[1]);
      return;
    }
    this.exitListeners.set(pid, cb);
  }

  private exited(pid: number, code: number | null, signal: string | null): void {
    const cb = this.exitListeners.get(pid);
    if (cb) {
      this.exitListeners.delete(pid);
      cb(code, signal);
      return;
    }
    if (this.earlyExits.size > 1000) this.earlyExits.clear();
    this.earlyExits.set(pid, [code, signal]);
  }

  spawn(opts: SpawnOptions, prompt?: string): Promise<Spawned> {
    const helper = this.ensureHelper();
    if (!helper) return Promise.resolve(this.spawnHere(opts, prompt));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      const req: SpawnRequest = { id, opts, ...(prompt !== undefined ? { prompt } : {}) };
      helper.send(req, (err) => {
        if (err) this.settle({ id, ok: false, code: 'spawn_failed', message: err.message });
      });
    });
  }

  private spawnHere(opts: SpawnOptions, prompt?: string): Spawned {
    if (prompt !== undefined && opts.stdinFile !== undefined) {
      mkdirSync(dirname(opts.stdinFile), { recursive: true });
      writeFileSync(opts.stdinFile, prompt);
    }
    const s = spawnSupervised(opts);
    s.child.once('exit', (code, signal) => this.exited(s.pid, code, signal));
    return { pid: s.pid, pgid: s.pgid, startTime: s.startTime };
  }

  private ensureHelper(): ChildProcess | null {
    if (this.helper || this.broken) return this.helper;
    try {
      const child = fork(HELPER, [], {
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        execArgv: [],
      });
      child.on('message', (m: SpawnResponse | SpawnerExit) => {
        if ('exit' in m) this.exited(m.exit, m.code, m.signal);
        else this.settle(m);
      });
      child.on('error', () => {});
      child.once('exit', () => {
        if (this.helper === child) this.helper = null;
        for (const id of [...this.pending.keys()]) {
          this.settle({
            id,
            ok: false,
            code: 'spawn_failed',
            message: 'the spawner helper exited',
          });
        }
      });
      child.unref();
      (child.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
      this.helper = child;
    } catch {
      this.broken = true;
    }
    return this.helper;
  }

  private settle(m: SpawnResponse): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    if (m.ok) p.resolve({ pid: m.pid, pgid: m.pgid, startTime: m.startTime });
    else p.reject(new AgentboardError(m.code, m.message));
  }

  close(): void {
    this.helper?.disconnect();
    this.helper = null;
  }
}
