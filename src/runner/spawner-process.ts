/**
 * The spawner: a small helper process that starts agents for the engine.
 * Forking is priced by the size of the parent; this process stays small, so
 * a spawn costs a fraction of what it costs from the engine, and it happens
 * off the engine's event loop. It exits with its parent (agents do not: they
 * run in their own sessions).
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
import { spawnSupervised } from './supervisor.js';

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

process.on('message', (msg: SpawnRequest) => {
  if (typeof msg.id !== 'number') return;
  let reply: SpawnResponse;
  if (msg.base) baseEnv = msg.opts.env;
  else if (msg.envDelta) msg.opts.env = applyEnvDelta(baseEnv, msg.envDelta);
  const pool = poolFor(msg.opts.runDir);
  try {
    pool.take(resolve(msg.opts.runDir));
    if (msg.prompt !== undefined && msg.opts.stdinFile !== undefined) {
      mkdirSync(dirname(msg.opts.stdinFile), { recursive: true });
      writeFileSync(msg.opts.stdinFile, msg.prompt);
    }
    const s = spawnSupervised(msg.opts);
    // Reaps the shim (no zombie) and tells the engine how it ended: without
    // exit.json (a SIGKILLed group) this is the only account of the signal.
    s.child.once('exit', (code, signal) => {
      const exit: SpawnerExit = { exit: s.pid, code, signal };
      process.send?.(exit);
    });
    reply = { id: msg.id, ok: true, pid: s.pid, pgid: s.pgid, startTime: s.startTime };
  } catch (e) {
    const code = e instanceof AgentboardError ? e.code : 'spawn_failed';
    reply = { id: msg.id, ok: false, code, message: (e as Error).message };
  }
  process.send?.(reply);
  pool.refill();
});
process.on('disconnect', () => process.exit(0));
