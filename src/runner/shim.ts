/**
 * The supervisor shim: a fixed /bin/sh script that runs the agent in the
 * foreground, then records how it ended in `<runDir>/exit.json`.
 *
 * Why sh and not node: a node shim costs ~40 ms of startup before the agent
 * even starts; dash costs well under a millisecond.
 *
 * Safety: the script is a constant. The agent's argv reaches it only as
 * positional parameters ("$@") and the run dir only through an environment
 * variable, so nothing a task says is ever parsed by a shell.
 *
 * Line by line:
 * - `trap : TERM INT HUP` — the shim must outlive a signal sent to the whole
 *   group so it can write exit.json. A *caught* signal is reset to default in
 *   the subshell and across exec, so the agent keeps default dispositions (an
 *   *ignored* one would be inherited, which is why it is not `trap ''`). dash
 *   defers the trap until the foreground child has exited.
 * - `[ -z "$AGENTBOARD_RUN_CGROUP" ] || echo $$ >.../cgroup.procs` — joins the
 *   run's own cgroup (run-tree.ts) before the agent exists, so every
 *   descendant, `setsid` escapees included, is in it. Builtins only: no fork.
 *   A failed write (no permission, cgroup gone) only prints to the shim's
 *   /dev/null stderr; the run goes on, reached by its group and marker. The
 *   variable is then unset: it is the shim's, and the agent's environment
 *   stays exactly what it was given plus the run dir.
 * - `( exec "$@" 2>&3 3>&- )` — the agent runs in a subshell that execs it (one
 *   fork, as for a plain command). The agent's stderr arrives on fd 3 while the
 *   shim's own fd 2 is /dev/null, because dash prints "Terminated"/"Killed" on
 *   its fd 2 when a foreground child dies of a signal; with a plain `"$@"` that
 *   line would be appended to the agent's stderr.log. The subshell also resets
 *   the traps before exec, so a signal landing between fork and exec kills the
 *   child as it should instead of being swallowed by an inherited handler.
 * - `trap '' ...` after the agent: a second stop request must not cut the
 *   write of exit.json short.
 * - exit.json is one small write by a shell builtin: no `date` or `mv`, whose
 *   fork and exec would cost more than the whole shim. It overwrites, in place
 *   (`1<>`: no truncation), the blank placeholder the spawner wrote, whose disk
 *   block is already taken: on a disk that filled up while the agent ran, a
 *   truncate-and-write would need a new block and leave the file empty.
 *   Readers accept the file only once it parses, and take its mtime as the
 *   end time.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_DIR_ENV = 'AGENTBOARD_RUN_DIR';
/** The run's cgroup directory, or '' for none. */
export const RUN_CGROUP_ENV = 'AGENTBOARD_RUN_CGROUP';
export const SHIM_NAME = 'agentboard-shim';

export const SHIM_SCRIPT = [
  'trap : TERM INT HUP',
  `d=$${RUN_DIR_ENV}`,
  'echo $$ >"$d/shim.pid"',
  `[ -z "$${RUN_CGROUP_ENV}" ] || echo $$ >"$${RUN_CGROUP_ENV}/cgroup.procs"; unset ${RUN_CGROUP_ENV}`,
  '(exec "$@" 2>&3 3>&-)',
  'c=$?',
  "trap '' TERM INT HUP",
  `printf '{"code":%d}' "$c" 1<>"$d/exit.json" 2>&3`,
  'exit "$c"',
  '',
].join('\n');

export interface ExitRecord {
  /** The agent's exit status as the shell reports it: 128+N when killed by signal N. */
  code: number;
  /** Epoch ms. Falls back to the file's mtime if the shim's `date` could not give ms. */
  endedAt: number;
}

/** null while the agent runs, and for a missing or malformed file. */
export function readExitFile(runDir: string): ExitRecord | null {
  const file = join(runDir, 'exit.json');
  try {
    const data: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (typeof data !== 'object' || data === null) return null;
    const { code, ended_at: endedAt } = data as { code?: unknown; ended_at?: unknown };
    if (typeof code !== 'number' || !Number.isInteger(code)) return null;
    if (typeof endedAt === 'number' && Number.isFinite(endedAt)) return { code, endedAt };
    return { code, endedAt: Math.round(statSync(file).mtimeMs) };
  } catch {
    return null;
  }
}
