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
 *   fork and exec would cost more than the whole shim. Readers accept the file
 *   only once it parses, and take its mtime as the end time.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

export const RUN_DIR_ENV = 'AGENTBOARD_RUN_DIR';
export const SHIM_NAME = 'agentboard-shim';

export const SHIM_SCRIPT = [
  'trap : TERM INT HUP',
  `d=$${RUN_DIR_ENV}`,
  'echo $$ >"$d/shim.pid"',
  '(exec "$@" 2>&3 3>&-)',
  'c=$?',
  "trap '' TERM INT HUP",
  `printf '{"code":%d}\\n' "$c" >"$d/exit.json" 2>&3`,
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
