import { Command, CommanderError } from 'commander';
import { VERSION } from '../contract/version.js';
import { AgentboardError } from '../domain/errors.js';
import { registerApprovals } from './commands/approvals.js';
import { registerBus } from './commands/bus.js';
import { registerInit } from './commands/init.js';
import { registerMcp } from './commands/mcp.js';
import { registerOpen } from './commands/open.js';
import { registerReviews } from './commands/review.js';
import { registerRuns } from './commands/runs.js';
import { registerSchedule } from './commands/schedule.js';
import { registerServe } from './commands/serve.js';
import { registerStart } from './commands/start.js';
import { registerTask } from './commands/task.js';
import { registerToken } from './commands/token.js';
import { registerValidate } from './commands/validate.js';
import { registerWorker } from './commands/worker.js';
import { registerWorkspaces } from './commands/workspaces.js';
import { endQuietlyWhenStdoutCloses, printErr } from './output.js';

export function buildProgram(): Command {
  const program = new Command('agentboard')
    .description('A durable Kanban board whose cards are carried out by AI coding agents.')
    .version(VERSION)
    .exitOverride();
  registerInit(program);
  registerTask(program);
  registerStart(program);
  registerOpen(program);
  registerServe(program);
  registerWorker(program);
  registerRuns(program);
  registerValidate(program);
  registerToken(program);
  registerBus(program);
  registerMcp(program);
  registerSchedule(program);
  registerWorkspaces(program);
  registerApprovals(program);
  registerReviews(program);
  for (const cmd of program.commands) applyExitOverride(cmd);
  return program;
}

function applyExitOverride(cmd: Command): void {
  cmd.exitOverride();
  for (const sub of cmd.commands) applyExitOverride(sub);
}

/** Runs the CLI: 0 ok, 1 failure, 2 usage error, with one clear line on stderr. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
      if (e.code === 'commander.help') return 0;
      return 2;
    }
    if (e instanceof AgentboardError) {
      printErr(`error: ${e.message}`);
      return e.exitCode;
    }
    const fsFault = fileSystemFault(e);
    printErr(`error: ${fsFault ?? (e as Error).stack ?? String(e)}`);
    return 1;
  }
}

/**
 * A file the CLI could not read or write (a read-only disk, no permission, a
 * full disk) is the user's to fix, not a bug: one line with the path and the
 * cause, no stack trace. null for anything else.
 */
function fileSystemFault(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException;
  if (typeof err?.code !== 'string' || typeof err.syscall !== 'string') return null;
  if (!FS_CAUSES.has(err.code)) return null;
  const at = err.path ? ` ${err.path}` : '';
  return `${err.syscall}${at} failed with ${err.code}: ${err.message.split('\n')[0]}`;
}

const FS_CAUSES = new Set(['EACCES', 'EPERM', 'EROFS', 'ENOENT', 'ENOTDIR', 'ENOSPC', 'EDQUOT']);

const isEntry = process.argv[1] && /agentboard(\.js)?$|cli\/main\.js$/.test(process.argv[1]);
if (isEntry) {
  endQuietlyWhenStdoutCloses();
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
