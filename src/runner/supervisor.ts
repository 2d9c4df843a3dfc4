/**
 * Spawning an agent under the shim (see shim.ts): detached in its own session
 * and process group, stdout/stderr straight to files in the run dir, so the
 * agent neither depends on nor slows down the process that started it.
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { AgentboardError } from '../domain/errors.js';
import { readProcStat } from './proc.js';
import { runCgroupPath } from './run-tree.js';
import { RUN_CGROUP_ENV, RUN_DIR_ENV, SHIM_NAME, SHIM_SCRIPT } from './shim.js';

export { resolveCommand } from './resolve-command.js';
export { type ExitRecord, readExitFile } from './shim.js';
export {
  killGroupMembers,
  type StopOptions,
  type StopOutcome,
  signalGroup,
  stopGroup,
} from './signals.js';

export interface SpawnOptions {
  /**
   * Created if missing; relative paths are taken from our cwd. Receives
   * stdout.log, stderr.log, shim.pid and exit.json.
   */
  runDir: string;
  /** argv[0] is looked up on env.PATH by the shim. Never parsed by a shell. */
  argv: string[];
  /** The agent's complete environment (nothing is inherited from ours). */
  env: Record<string, string>;
  cwd: string;
  /** Becomes the agent's stdin; /dev/null if absent. */
  stdinFile?: string;
  /** For tests: the shell that runs the shim. */
  shell?: string;
}

export interface SpawnedProcess {
  /** The shim's pid; the agent is its child. */
  pid: number;
  /** == pid: the shim leads the group. */
  pgid: number;
  /** From /proc/<pid>/stat; with pid, the identity to record. */
  startTime: number;
  /** Unref'd: it does not keep our process alive, but 'exit' still fires while we are. */
  child: ChildProcess;
}

const APPEND = constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND;
const CREATE = constants.O_WRONLY | constants.O_CREAT;
/** Longer than any `{"code":N}` the shim writes over it. */
const EXIT_PLACEHOLDER = `${' '.repeat(31)}\n`;

/**
 * A run's files hold what the agent printed and was told (secrets included):
 * the run directory is 0700 and its files 0600. Modes are given at creation,
 * so no umask can widen them. The shim writes shim.pid and exit.json with
 * shell redirections, which would take the umask's mode: they are created
 * here first (a redirection keeps an existing file's mode).
 */
export const RUN_DIR_MODE = 0o700;
export const RUN_FILE_MODE = 0o600;

/** Makes an fd's file RUN_FILE_MODE if it is not (a spare made by an older version). */
function privateFd(fd: number): number {
  if ((fstatSync(fd).mode & 0o777) !== RUN_FILE_MODE) fchmodSync(fd, RUN_FILE_MODE);
  return fd;
}

export function spawnSupervised(opts: SpawnOptions): SpawnedProcess {
  const cmd = opts.argv[0];
  if (cmd === undefined || cmd === '') {
    throw new AgentboardError('spawn_failed', 'cannot start an agent: empty command');
  }
  // A shell whose `exec` takes options (bash: -a -c -l) would read a leading '-' as one.
  if (cmd.startsWith('-')) {
    throw new AgentboardError('spawn_failed', `cannot start an agent: bad command name ${cmd}`);
  }
  const shell = opts.shell ?? '/bin/sh';
  // Absolute, because the shim resolves it from the agent's cwd, not ours.
  const runDir = resolve(opts.runDir);
  mkdirSync(runDir, { recursive: true, mode: RUN_DIR_MODE });
  const fds: number[] = [];
  try {
    const out = privateFd(openSync(join(runDir, 'stdout.log'), APPEND, RUN_FILE_MODE));
    fds.push(out);
    const err = privateFd(openSync(join(runDir, 'stderr.log'), APPEND, RUN_FILE_MODE));
    fds.push(err);
    fds.push(privateFd(openSync(join(runDir, 'shim.pid'), CREATE, RUN_FILE_MODE)));
    const exitFd = privateFd(openSync(join(runDir, 'exit.json'), CREATE, RUN_FILE_MODE));
    fds.push(exitFd);
    // The shim overwrites this in place at the end (`1<>`, no truncation):
    // its disk block is taken now, so a disk that fills up meanwhile cannot
    // lose the agent's exit status. Blank reads as "not exited yet".
    writeSync(exitFd, EXIT_PLACEHOLDER, 0);
    let stdin: number | 'ignore' = 'ignore';
    if (opts.stdinFile !== undefined) {
      stdin = openSync(opts.stdinFile, constants.O_RDONLY);
      fds.push(stdin);
    }
    // The shim's own fd 2 is /dev/null; the agent's stderr travels on fd 3 (see shim.ts).
    const stdio: StdioOptions = [stdin, out, 'ignore', err];
    const child = spawn(shell, ['-c', SHIM_SCRIPT, SHIM_NAME, ...opts.argv], {
      cwd: opts.cwd,
      env: { ...opts.env, [RUN_DIR_ENV]: runDir, [RUN_CGROUP_ENV]: createRunCgroup(runDir) },
      stdio,
      detached: true,
    });
    // Spawn failures are also emitted asynchronously; without a listener they would crash us.
    child.on('error', () => {});
    const pid = child.pid;
    if (pid === undefined) throw spawnError(shell, opts.cwd);
    child.unref();
    // Not yet reaped (that needs our event loop), so /proc/<pid> is still there.
    const startTime = readProcStat(pid)?.startTime;
    if (startTime === undefined) {
      throw new AgentboardError('spawn_failed', `agent shim ${pid} vanished right after spawn`);
    }
    return { pid, pgid: pid, startTime, child };
  } finally {
    for (const fd of fds) closeSync(fd);
  }
}

/**
 * The run's own cgroup (see run-tree.ts), for the shim to join; '' where
 * there are none, or it could not be made: the run then goes without, and
 * is reached by its process group and environment marker instead.
 */
function createRunCgroup(runDir: string): string {
  const dir = runCgroupPath(basename(runDir));
  if (dir === null) return '';
  try {
    mkdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') return '';
  }
  return dir;
}

/** Node reports the errno only asynchronously; say what is wrong from what we can check now. */
function spawnError(shell: string, cwd: string): AgentboardError {
  let reason = `could not start ${shell}`;
  try {
    if (!statSync(cwd).isDirectory()) reason = `working directory is not a directory: ${cwd}`;
  } catch {
    reason = `working directory does not exist: ${cwd}`;
  }
  try {
    statSync(shell);
  } catch {
    reason = `${shell} not found`;
  }
  return new AgentboardError('spawn_failed', `cannot start the agent: ${reason}`, {
    details: { shell, cwd },
  });
}
