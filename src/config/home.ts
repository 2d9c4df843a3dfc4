import fs from 'node:fs';
import path from 'node:path';
import { AgentboardError } from '../domain/errors.js';

/** Where a board keeps its config, SQLite file and run directories. */
export interface BoardPaths {
  home: string;
  config: string;
  database: string;
  runs: string;
}

export function resolvePaths(env: NodeJS.ProcessEnv, cwd: string): BoardPaths {
  const home = path.resolve(cwd, env.AGENTBOARD_HOME || '.agentboard');
  return {
    home,
    config: path.join(home, 'config.yaml'),
    database: path.join(home, 'agentboard.db'),
    runs: path.join(home, 'runs'),
  };
}

export function runDir(paths: BoardPaths, runId: string): string {
  return path.join(paths.runs, runId);
}

/**
 * Modes of the board's files at rest. The home holds secrets in clear (run
 * logs, prompts, the database, config.yaml), so all of it is the owner's
 * only. Each mode is given when the file or folder is created: a umask can
 * narrow it but never widen it, whatever umask the process runs under.
 */
export const PRIVATE_DIR = 0o700;
export const PRIVATE_FILE = 0o600;

/**
 * What agentboard itself keeps in a home. A folder holding only these (or
 * nothing) is plainly the board's own, and safe to tighten.
 */
const BOARD_ENTRY =
  /^(?:config\.yaml|agentboard\.db(?:-wal|-shm|-journal)?|runs|agents|bin|worktrees|watchdogs|watchdog\.log|api-token(?:\.sha256)?)$|\.tmp$/;

/**
 * Creates the home and its runs/ folder, 0700. A home that already exists
 * with a looser mode (made by an older version, or by hand with `mkdir`) is
 * tightened to 0700 when it is plainly the board's: owned by us, not a
 * shared sticky folder, and holding nothing but a board's entries. Anything
 * else (AGENTBOARD_HOME pointed at a project, at $HOME, at /tmp) is not ours
 * to change, since other people and programs rely on its mode: it gets a
 * warning, and the board's own files inside it are still 0600/0700.
 *
 * Returns the warning, if any, after passing it to `warn`. A home that
 * cannot be made or written is a home_unavailable error naming the path and
 * the cause.
 */
export function ensureHome(
  paths: BoardPaths,
  warn: (message: string) => void = (m) => process.stderr.write(`warning: ${m}\n`),
): string | null {
  let problem: string | null;
  try {
    fs.mkdirSync(paths.home, { recursive: true, mode: PRIVATE_DIR });
    // Judged before runs/ is made in it: a folder that held no board must not look like one.
    problem = tighten(paths.home, true) ?? null;
    fs.mkdirSync(paths.runs, { recursive: true, mode: PRIVATE_DIR });
    tighten(paths.runs, false);
  } catch (e) {
    throw homeError(paths.home, e);
  }
  if (problem) warn(problem);
  return problem;
}

/** What each cause means, and what to do about it. */
const HOME_CAUSES: Record<string, string> = {
  EACCES: 'permission denied: give this user write access to it',
  EPERM: 'not permitted: give this user write access to it',
  EROFS: 'the file system is read-only: remount it read-write',
  ENOENT: 'a folder on the way does not exist: create it',
  ENOTDIR: 'a part of the path is a file, not a folder',
  ENOSPC: 'the disk is full: free space there',
  EDQUOT: 'the disk quota is used up: free space there',
};

/** A file-system error on the home, as one line: the path, the cause, what to do. */
function homeError(home: string, e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== 'string' || typeof err.syscall !== 'string') return e;
  const at = err.path ?? home;
  const code = trueCause(at, err.code);
  const what = HOME_CAUSES[code] ?? err.message;
  return new AgentboardError(
    'home_unavailable',
    `the board's home ${home} cannot be used: ${err.syscall} ${at} failed with ${code} (${what}), or point AGENTBOARD_HOME at another folder`,
  );
}

/**
 * A recursive mkdir reports ENOENT for a folder it could not create on a
 * read-only disk or under a folder it may not write: the nearest existing
 * ancestor tells the real cause.
 */
function trueCause(target: string, code: string): string {
  if (code !== 'ENOENT') return code;
  let dir = path.dirname(target);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return code;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? code;
  }
}

/** `home`: check that the folder is the board's before changing it; runs/ always is. */
function tighten(dir: string, home: boolean): string | undefined {
  const st = fs.statSync(dir);
  if ((st.mode & 0o077) === 0) return undefined;
  const ours = typeof process.getuid !== 'function' || st.uid === process.getuid();
  let why: string | null = null;
  if (!ours) why = 'another user owns it';
  else if (home && (st.mode & 0o1000) !== 0) why = 'it is a shared (sticky) folder';
  else if (home) {
    const other = fs.readdirSync(dir).find((name) => !BOARD_ENTRY.test(name));
    if (other !== undefined) why = `it holds more than a board (${other})`;
  }
  if (why === null) {
    fs.chmodSync(dir, PRIVATE_DIR);
    return undefined;
  }
  const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
  return `${dir} (the board's home) is mode ${mode}: other users may read its run logs, prompts and database. It was left as it is because ${why}: run \`chmod 700 ${dir}\`, or point AGENTBOARD_HOME at a folder of its own.`;
}

/** Creates `file` with `data`, readable by the owner only; fails if it exists. */
export function writePrivateFile(file: string, data: string): void {
  const fd = fs.openSync(file, 'wx', PRIVATE_FILE);
  try {
    fs.writeFileSync(fd, data);
  } finally {
    fs.closeSync(fd);
  }
}
