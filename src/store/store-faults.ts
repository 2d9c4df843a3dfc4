/**
 * Database faults a user can act on (a lock held by another process, a full
 * disk, a database that cannot be written), told apart from bugs and turned
 * into typed errors that name the path and what to do.
 */
import fs from 'node:fs';
import path from 'node:path';
import { StoreError } from '../domain/errors.js';

export function isBusy(e: unknown): boolean {
  const code = String((e as { code?: unknown })?.code ?? '');
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED');
}

/**
 * A database fault the user can act on, as a typed error naming the path and
 * what to do: the lock held by another process, a full disk, a database that
 * cannot be written. null for anything else (a bug, a constraint). SQLite's
 * and PostgreSQL's codes always count; the file system's (ENOSPC, EROFS...)
 * only with `fileErrors`, where the store itself touched the file: inside a
 * transaction they may be about any other file.
 */
export function storeFault(
  e: unknown,
  where: { file?: string; holder?: () => number | null; fileErrors?: boolean },
): StoreError | null {
  const code = (e as { code?: unknown })?.code;
  const c = typeof code === 'string' && (where.fileErrors || !/^E[A-Z]+$/.test(code)) ? code : '';
  const db = where.file ? `the board's database ${where.file}` : "the board's PostgreSQL database";
  if (isBusy(e)) {
    const pid = where.holder?.() ?? null;
    return new StoreError(
      'store_busy',
      `${db} is locked by another process (${pid === null ? 'pid unknown' : `pid ${pid}`}); writes are paused: close that process or wait, then retry`,
    );
  }
  if (c.startsWith('SQLITE_FULL') || c === 'ENOSPC' || c === 'EDQUOT' || c === '53100') {
    const dir = where.file ? path.dirname(where.file) : null;
    return new StoreError(
      'store_full',
      dir
        ? `the disk holding ${dir} is full (${c}): free space there, then the board resumes by itself`
        : `the disk of ${db} is full (${c}): free space on the database server, then the board resumes by itself`,
    );
  }
  if (
    c.startsWith('SQLITE_READONLY') ||
    c === 'EROFS' ||
    c === 'EACCES' ||
    c === 'EPERM' ||
    c === '25006' ||
    c.startsWith('SQLITE_CANTOPEN')
  ) {
    return new StoreError(
      'store_read_only',
      `${db} cannot be written (${c}): make it, its -wal and -shm files and its folder writable by this user (and the disk not read-only), then retry`,
    );
  }
  return null;
}

const TRANSIENT_FAULTS = new Set(['store_busy', 'store_full', 'store_read_only']);

/**
 * Whether `e` is a database fault that ends once the lock is let go, space
 * is freed or permissions are fixed (typed by tx(), or raw from SQLite or
 * PostgreSQL): a write worth trying again later.
 */
export function isTransientStoreFault(e: unknown): boolean {
  if (e instanceof StoreError) return TRANSIENT_FAULTS.has(e.code);
  return storeFault(e, {}) !== null;
}

/**
 * Which process holds SQLite's write lock on `file`, from Linux's lock
 * table: in WAL mode it is a POSIX write lock on byte 120 of the -shm file.
 * null when unknown (another OS, an OFD lock, a lock gone meanwhile).
 */
export function writeLockHolder(file: string): number | null {
  try {
    const inode = fs.statSync(`${file}-shm`).ino;
    for (const line of fs.readFileSync('/proc/locks', 'utf8').split('\n')) {
      const f = line.replace(/->\s*/, '').trim().split(/\s+/);
      // "1: POSIX ADVISORY WRITE <pid> <maj:min:inode> <start> <end>"
      if (f[1] !== 'POSIX' || f[3] !== 'WRITE') continue;
      if (Number(f[5]?.split(':')[2]) !== inode) continue;
      const start = Number(f[6]);
      const end = f[7] === 'EOF' ? Number.POSITIVE_INFINITY : Number(f[7]);
      const pid = Number(f[4]);
      if (
        start <= WAL_WRITE_LOCK_BYTE &&
        WAL_WRITE_LOCK_BYTE <= end &&
        pid > 0 &&
        pid !== process.pid
      )
        return pid;
    }
  } catch {
    // no lock table here: the message says "pid unknown"
  }
  return null;
}

/** SQLite's WAL_WRITE_LOCK: the first lock byte of the wal-index (-shm) file. */
const WAL_WRITE_LOCK_BYTE = 120;
