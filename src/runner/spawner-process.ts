/**
 * The spawner: a small helper process that starts agents for the engine.
 * Forking is priced by the size of the parent; this process stays small, so
 * a spawn costs a fraction of what it costs from the engine, and it happens
 * off the engine's event loop. It exits with its parent (agents do not: they
 * run in their own sessions).
 *
 * Its parent can die at any moment (kill -9 of the server). The helper then
 * learns it from the IPC channel: the 'disconnect' event, or, when it had
 * something to say first (a launch it was busy with, a shim's exit), a send
 * that fails with EPIPE. Either way it exits quietly with 0: its agents are
 * in their own sessions, and the next engine adopts them from their files.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AgentboardError } from '../domain/errors.js';
import { RunDirPool } from './run-dir-pool.js';
import {
  applyEnvDelta,
  type SpawnerExit,
  type SpawnRequest,
  type SpawnResponse,
} from './spawner.js';
import { RUN_DIR_MODE, RUN_FILE_MODE, spawnSupervised } from './supervisor.js';

/** Spares per runs directory (one per board this helper has launched for). */
const SPARES = 4;
const pools = new Map<string, RunDirPool>();
let baseEnv: Record<string, string> = {};

function poolFor(runDir: string): RunDirPool {
  const runsDir = dirname(resolve(runDir));
  let pool = pools.get(runsDir);
  if (!pool) {
    pool = new RunDirPool(runsDir, SPARES);
    pools.set(runsDir, pool);
  }
  return pool;
}

/** The parent is gone: nobody is left to tell, and the agents carry on without us. */
function parentGone(): void {
  process.exit(0);
}

/**
 * Without a callback, a send on a channel whose other end has died emits
 * 'error' on `process`, which nothing handles: an EPIPE stack trace.
 */
function tell(m: SpawnResponse | SpawnerExit): void {
  if (!process.connected || !process.send) {
    parentGone();
    return;
  }
  process.send(m, (err: Error | null) => {
    if (err) parentGone();
  });
}

process.on('message', (msg: SpawnRequest) => {
  if (typeof msg.id !== 'number') return;
  let reply: SpawnResponse;
  if (msg.base) baseEnv = msg.opts.env;
  else if (msg.envDelta) msg.opts.env = applyEnvDelta(baseEnv, msg.envDelta);
  const pool = poolFor(msg.opts.runDir);
  try {
    pool.take(resolve(msg.opts.runDir));
    if (msg.prompt !== undefined && msg.opts.stdinFile !== undefined) {
      mkdirSync(dirname(msg.opts.stdinFile), { recursive: true, mode: RUN_DIR_MODE });
      writeFileSync(msg.opts.stdinFile, msg.prompt, { mode: RUN_FILE_MODE });
    }
    const s = spawnSupervised(msg.opts);
    // Reaps the shim (no zombie) and tells the engine how it ended: without
    // exit.json (a SIGKILLed group) this is the only account of the signal.
    s.child.once('exit', (code, signal) => {
      tell({ exit: s.pid, code, signal });
    });
    reply = { id: msg.id, ok: true, pid: s.pid, pgid: s.pgid, startTime: s.startTime };
  } catch (e) {
    const code = e instanceof AgentboardError ? e.code : 'spawn_failed';
    reply = { id: msg.id, ok: false, code, message: (e as Error).message };
  }
  tell(reply);
  pool.refill();
});
process.on('disconnect', parentGone);
