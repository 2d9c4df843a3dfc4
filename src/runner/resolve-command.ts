/**
 * Finds an agent CLI before we spawn it, so "not installed" is reported as
 * such instead of as an exit 127 from the shim.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

/** Dispatch is hot and PATH rarely changes: a short cache saves a stat per PATH entry. */
const TTL_MS = 5000;
const MAX_ENTRIES = 512;
const cache = new Map<string, { value: string | null; expires: number }>();

/**
 * The absolute path of `cmd`: as given when it contains a `/` (relative ones
 * resolve against `cwd`), else the first executable file named `cmd` on PATH.
 * Empty PATH entries (which POSIX reads as ".") are skipped on purpose.
 */
export function resolveCommand(
  cmd: string,
  PATH: string,
  cwd: string = process.cwd(),
): string | null {
  if (cmd === '' || cmd.includes('\0')) return null;
  const key = `${cmd}\0${PATH}\0${cwd}`;
  const now = Date.now();
  const hit = cache.get(key);
  if (hit && hit.expires > now) return hit.value;

  const value = lookup(cmd, PATH, cwd);
  if (cache.size >= MAX_ENTRIES) {
    for (const [k, v] of cache) if (v.expires <= now) cache.delete(k);
    if (cache.size >= MAX_ENTRIES) cache.clear();
  }
  cache.set(key, { value, expires: now + TTL_MS });
  return value;
}

function lookup(cmd: string, PATH: string, cwd: string): string | null {
  if (cmd.includes('/')) {
    const abs = resolve(cwd, cmd);
    return isExecutableFile(abs) ? abs : null;
  }
  for (const dir of PATH.split(':')) {
    if (dir === '') continue;
    const candidate = join(isAbsolute(dir) ? dir : resolve(cwd, dir), cmd);
    if (isExecutableFile(candidate)) return candidate;
  }
  return null;
}

function isExecutableFile(p: string): boolean {
  try {
    if (!statSync(p).isFile()) return false;
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
