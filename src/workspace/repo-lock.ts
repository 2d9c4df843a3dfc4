/**
 * `git worktree add`, `remove` and `prune` are not safe to run at the same
 * time in one repository: one can read (or prune) another's half-written
 * entry under .git/worktrees. They are serialised here: in this process by a
 * queue, across processes (the engine, a CLI gc or discard) by a lock file
 * in the repository's git directory, held by a live pid.
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentboardError } from '../domain/errors.js';
import { gitOut } from './git.js';

const LOCK_NAME = 'agentboard-worktrees.lock';
const WAIT_MS = 60_000;
const queues = new Map<string, Promise<unknown>>();

export async function withRepoLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(root) ?? Promise.resolve();
  const run = prev.catch(() => {}).then(() => underFileLock(root, fn));
  queues.set(root, run);
  try {
    return await run;
  } finally {
    if (queues.get(root) === run) queues.delete(root);
  }
}

async function underFileLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  const gitDir = path.resolve(root, await gitOut(root, ['rev-parse', '--git-common-dir']));
  const file = path.join(gitDir, LOCK_NAME);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    try {
      fs.writeFileSync(file, String(process.pid), { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (holderIsGone(file)) {
        fs.rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new AgentboardError(
          'repo_locked',
          `${file} has been held for ${WAIT_MS / 1000}s by process ${readPid(file)}: if no agentboard process is working on this repository, delete it`,
        );
      }
      await sleep(20 + Math.random() * 30);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(file, { force: true });
  }
}

function readPid(file: string): number | null {
  try {
    const n = Number(fs.readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** A lock whose process has died (crashed mid-operation) is stale. */
function holderIsGone(file: string): boolean {
  const pid = readPid(file);
  if (pid === null) {
    // Being written this instant, or garbage: judge it by age.
    try {
      return Date.now() - fs.statSync(file).mtimeMs > 5000;
    } catch {
      return true;
    }
  }
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
