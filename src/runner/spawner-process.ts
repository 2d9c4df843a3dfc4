/**
 * The spawner: a small helper process that starts agents for the engine.
 * Forking is priced by the size of the parent; this process stays small, so
 * a spawn costs a fraction of what it costs from the engine, and it happens
 * off the engine's event loop. It exits with its parent (agents do not: they
 * run in their own sessions).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AgentboardError } from '../domain/errors.js';
import type { SpawnerExit, SpawnRequest, SpawnResponse } from './spawner.js';
import { spawnSupervised } from './supervisor.js';

process.on('message', (msg: SpawnRequest) => {
  if (typeof msg.id !== 'number') return;
  let reply: SpawnResponse;
  try {
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
});
process.on('disconnect', () => process.exit(0));
