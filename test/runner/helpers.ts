/** Shared by the runner tests. Not a test file itself (node --test runs it as an empty one). */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const tempDirs: string[] = [];
process.on('exit', () => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp dir, removed when the process exits. */
export function tempDir(prefix = 'ab-runner-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}

export async function waitFor(
  what: string,
  cond: () => boolean,
  timeoutMs = 5000,
  intervalMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/**
 * Attach right after spawning: 'exit' is not replayed for late listeners.
 * spawnSupervised unrefs the child, so waiting on it alone would let the event
 * loop run dry; ref() it back for the wait.
 */
export function exited(
  child: ChildProcess,
): Promise<{ code: number | null; signal: string | null }> {
  child.ref();
  return new Promise((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

export function agentEnv(extra: Record<string, string> = {}): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', ...extra };
}

/** Signal masks from /proc/<pid>/status, as bigints (bit N-1 = signal N). */
export function signalMasks(pid: number): { ignored: bigint; caught: bigint } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const mask = (name: string): bigint => {
    const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status);
    if (!m?.[1]) throw new Error(`no ${name} in /proc/${pid}/status`);
    return BigInt(`0x${m[1]}`);
  };
  return { ignored: mask('SigIgn'), caught: mask('SigCgt') };
}

export function bit(signal: number): bigint {
  return 1n << BigInt(signal - 1);
}

export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter((s) => s !== '')
      .map(Number);
  } catch {
    return [];
  }
}

export function openFdCount(): number {
  return readdirSync('/proc/self/fd').length;
}

/** Deterministic bytes covering all 256 values, NUL and newline included. */
export function pattern(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    b[i] = x & 255;
  }
  return b;
}
