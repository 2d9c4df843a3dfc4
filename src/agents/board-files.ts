/**
 * The board's own files (database, config.yaml, run logs, the `agentboard`
 * launcher in bin/) are not an agent's to write. An agent CLI's permissions
 * or sandbox usually let it write anywhere under its working directory, and
 * in `shared` mode that directory is the project, which holds the default
 * home (`.agentboard`). So when the home lies inside the agent's cwd, each
 * adapter adds the CLI's own deny rule for it; elsewhere argv is unchanged.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../domain/errors.js';

/** The home's absolute paths as the CLI may see them: as given and with symlinks resolved. */
export function homeInsideCwd(cwd: string, home: string): string[] | null {
  const given = { cwd: path.resolve(cwd), home: path.resolve(home) };
  const real = { cwd: realOr(given.cwd), home: realOr(given.home) };
  if (!within(given.cwd, given.home) && !within(real.cwd, real.home)) return null;
  return [...new Set([given.home, real.home])];
}

function within(dir: string, p: string): boolean {
  const rel = path.relative(dir, p);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function realOr(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** Characters a CLI's path pattern would read as a glob or a list separator. */
const PATTERN_SPECIAL = /[*?[\]{}()!,\\]/;

/**
 * The home as a literal for a CLI's glob rules. A home whose path a glob
 * would misread cannot be protected by a rule, so the run is refused with
 * what to do instead rather than started unprotected.
 */
export function globSafeHome(name: string, cli: string, home: string): string {
  if (PATTERN_SPECIAL.test(home))
    throw new ConfigError(
      `agents.${name}: the board's home ${home} is inside the agent's workspace, and its path holds characters ${cli}'s permission rules read as patterns, so its files cannot be protected from the agent: set AGENTBOARD_HOME to a path outside the workspace, or use workspace: worktree`,
    );
  return home;
}

/**
 * Refuses a run whose CLI would write the board's files unasked (a mode that
 * bypasses the CLI's permissions, or a CLI with no rule for a path) while
 * the home is inside the workspace, unless the user opted in.
 */
export function refuseUnprotected(
  ctx: { name: string; boardWritesAllowed?: boolean },
  why: string,
): void {
  if (ctx.boardWritesAllowed) return;
  throw new ConfigError(
    `agents.${ctx.name}: the board's home is inside the agent's workspace, and ${why}, so the agent could rewrite the board's database, config.yaml and run logs: set AGENTBOARD_HOME to a path outside the workspace, use workspace: worktree, or accept that with agents.${ctx.name}.allow_board_writes: true`,
  );
}
