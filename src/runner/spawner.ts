import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentboardError, type ErrorCode } from '../domain/errors.js';
import { RUN_DIR_MODE, RUN_FILE_MODE, type SpawnOptions, spawnSupervised } from './supervisor.js';

export interface SpawnRequest {
  id: number;
  /**
   * opts.env is sent whole once per helper (`base`); later requests carry
   * only what differs from it in `envDelta`, with opts.env empty. A full
   * environment is kilobytes of JSON to encode and decode per launch.
   */
  opts: SpawnOptions;
  base?: true;
  envDelta?: { set: Record<string, string>; unset: string[] };
  /** Written to opts.stdinFile before the agent starts. */
  prompt?: string;
}

/** What `env` changes relative to `base`. */
export function envDelta(
  base: Record<string, string>,
  env: Record<string, string>,
): { set: Record<string, string>; unset: string[] } {
  const set: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (base[k] !== v) set[k] = v;
  const unset = Object.keys(base).filter((k) => !(k in env));
  return { set, unset };
}

/** The environment a request describes, given the helper's base. */
export function applyEnvDelta(
  base: Record<string, string>,
  delta: { set: Record<string, string>; unset: string[] },
): Record<string, string> {
  const env = { ...base, ...delta.set };
  for (const k of delta.unset) delete env[k];
  return env;
}

export type SpawnResponse =
  | { id: number; ok: true; pid: number; pgid: number; startTime: number }
  | { id: number; ok: false; code: ErrorCode; message: string };

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
 * How many helpers spawn at once. A spawn blocks its helper for the fork and
 * the exec, and for creating the run's files (slow on a busy disk), so one
 * helper per core lets launches overlap instead of queueing behind each other.
 */
const HELPERS = Math.max(1, Math.min(4, availableParallelism()));

interface Helper {
  child: ChildProcess;
  /** Spawn requests sent and not yet answered: the least busy helper gets the next one. */
  inFlight: number;
  /** Shims this helper started and has not yet seen exit. */
  pids: Set<number>;
  /** The environment sent whole with the first request (see SpawnRequest). */
  baseEnv: Record<string, string> | null;
}

/**
 * Starts agents through spawner helper processes (see spawner-process.ts).
 * If no helper can run, agents are spawned from this process instead:
 * slower, never wrong. Exits are observed through exit.json either way.
 */
export class Spawner {
  private readonly helpers: (Helper | null)[] = Array.from({ length: HELPERS }, () => null);
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (s: Spawned) => void; reject: (e: Error) => void; helper: Helper }
  >();
  private broken = false;
  private readonly exitListeners = new Map<number, { cb: ExitListener; orphaned: () => void }>();
  /** Exits that arrived before anyone asked (kept briefly, by pid). */
  private readonly earlyExits = new Map<number, [number | null, string | null]>();
  /** Shims spawned from this process (no helper could run). */
  private readonly ownChildren = new Set<number>();

  /**
   * Calls `cb` when the shim with this pid exits (if this spawner started
   * it), or `orphaned` if the helper that would report it has died (the shim
   * lives on, reparented): the caller must then watch for the exit itself.
   */
  onExit(pid: number, cb: ExitListener, orphaned: () => void): void {
    const early = this.earlyExits.get(pid);
    if (early) {
      this.earlyExits.delete(pid);
      cb(early[0], early[1]);
      return;
    }
    if (!this.helpers.some((h) => h?.pids.has(pid)) && !this.ownChildren.has(pid)) {
      orphaned();
      return;
    }
    this.exitListeners.set(pid, { cb, orphaned });
  }

  private exited(pid: number, code: number | null, signal: string | null): void {
    const listener = this.exitListeners.get(pid);
    if (listener) {
      this.exitListeners.delete(pid);
      listener.cb(code, signal);
      return;
    }
    if (this.earlyExits.size > 1000) this.earlyExits.clear();
    this.earlyExits.set(pid, [code, signal]);
  }

  spawn(opts: SpawnOptions, prompt?: string): Promise<Spawned> {
    const helper = this.pickHelper();
    if (!helper) return Promise.resolve(this.spawnHere(opts, prompt));
    const id = this.nextId++;
    helper.inFlight++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, helper });
      let req: SpawnRequest;
      if (helper.baseEnv === null) {
        helper.baseEnv = opts.env;
        req = { id, opts, base: true };
      } else {
        req = { id, opts: { ...opts, env: {} }, envDelta: envDelta(helper.baseEnv, opts.env) };
      }
      if (prompt !== undefined) req.prompt = prompt;
      helper.child.send(req, (err) => {
        if (err) this.settle({ id, ok: false, code: 'spawn_failed', message: err.message });
      });
    });
  }

  private spawnHere(opts: SpawnOptions, prompt?: string): Spawned {
    if (prompt !== undefined && opts.stdinFile !== undefined) {
      mkdirSync(dirname(opts.stdinFile), { recursive: true, mode: RUN_DIR_MODE });
      writeFileSync(opts.stdinFile, prompt, { mode: RUN_FILE_MODE });
    }
    const s = spawnSupervised(opts);
    this.ownChildren.add(s.pid);
    s.child.once('exit', (code, signal) => {
      this.ownChildren.delete(s.pid);
      this.exited(s.pid, code, signal);
    });
    return { pid: s.pid, pgid: s.pgid, startTime: s.startTime };
  }

  /**
   * Forks the first helper now, at engine start: a helper takes 100–300 ms to
   * load, which would otherwise fall on the first launch's dispatch latency.
   */
  warm(): void {
    if (!this.broken && !this.helpers[0]) this.startHelper(0);
  }

  /** The least busy helper, forking it (or a replacement for one that died) when needed. */
  private pickHelper(): Helper | null {
    if (this.broken) return null;
    let best: Helper | null = null;
    for (let i = 0; i < this.helpers.length; i++) {
      let h = this.helpers[i] ?? null;
      // Forked lazily: a second helper only once the first is busy.
      if (!h && (best === null || best.inFlight > 0)) h = this.startHelper(i);
      if (h && (best === null || h.inFlight < best.inFlight)) best = h;
      if (best?.inFlight === 0) break;
    }
    return best;
  }

  private startHelper(slot: number): Helper | null {
    let child: ChildProcess;
    try {
      child = fork(HELPER, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    } catch {
      this.broken = true;
      return null;
    }
    const helper: Helper = { child, inFlight: 0, pids: new Set(), baseEnv: null };
    child.on('message', (m: SpawnResponse | SpawnerExit) => {
      if ('exit' in m) {
        helper.pids.delete(m.exit);
        this.exited(m.exit, m.code, m.signal);
      } else {
        if (m.ok) helper.pids.add(m.pid);
        this.settle(m);
      }
    });
    child.on('error', () => {});
    child.once('exit', () => {
      if (this.helpers[slot] === helper) this.helpers[slot] = null;
      for (const [id, p] of this.pending) {
        if (p.helper !== helper) continue;
        this.settle({ id, ok: false, code: 'spawn_failed', message: 'the spawner helper exited' });
      }
      for (const pid of helper.pids) {
        const listener = this.exitListeners.get(pid);
        this.exitListeners.delete(pid);
        listener?.orphaned();
      }
      helper.pids.clear();
    });
    child.unref();
    (child.channel as unknown as { unref?: () => void } | undefined)?.unref?.();
    this.helpers[slot] = helper;
    return helper;
  }

  private settle(m: SpawnResponse): void {
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    p.helper.inFlight--;
    if (m.ok) p.resolve({ pid: m.pid, pgid: m.pgid, startTime: m.startTime });
    else p.reject(new AgentboardError(m.code, m.message));
  }

  close(): void {
    for (let i = 0; i < this.helpers.length; i++) {
      this.helpers[i]?.child.disconnect();
      this.helpers[i] = null;
    }
  }
}
