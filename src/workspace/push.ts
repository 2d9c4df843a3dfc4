/**
 * Publishing a task branch: `git push` to the board's remote, and the
 * board's pull-request command (`gh pr create …`). Both run as argv arrays,
 * never through a shell: a task title holding `$(rm -rf ~)` or `; echo` is
 * one literal argument, whatever it contains.
 */
import { spawn } from 'node:child_process';
import { AgentboardError } from '../domain/errors.js';
import { GitError, git } from './git.js';

/** Pushes `branch` to the branch of the same name on `remote`. */
export async function pushBranch(root: string, remote: string, branch: string): Promise<void> {
  try {
    await git(root, ['push', remote, `${branch}:${branch}`]);
  } catch (e) {
    if (!(e instanceof GitError)) throw e;
    throw new AgentboardError(
      'push_failed',
      `git push ${remote} ${branch} failed: ${pushFailureLine(e.stderr || e.stdout)} (check that board.remote ${remote} exists in ${root}, is reachable and accepts the push, then push again)`,
      { details: { remote, branch, exit: e.exit } },
    );
  }
}

/** The line of git's output that says why: its first error, else its first line. */
function pushFailureLine(out: string): string {
  const lines = out
    .split('\n')
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '');
  return (
    lines.find((l) => /^(fatal|error):|^ ! |^remote: (error|fatal)/.test(l))?.trim() ??
    lines[0]?.trim() ??
    '(no output)'
  );
}

export interface PrValues {
  branch: string;
  base: string;
  title: string;
  remote: string;
}

const PLACEHOLDER = /\{(branch|base|title|remote)\}/g;

/**
 * The command's argv: a string is split on whitespace first, then each
 * placeholder is replaced inside its own argument, so a value (even one
 * with spaces) never becomes more than the one argument it sits in.
 */
export function prArgv(command: string | readonly string[], values: PrValues): string[] {
  const words = typeof command === 'string' ? command.trim().split(/\s+/) : [...command];
  return words.map((w) => w.replace(PLACEHOLDER, (_, name: keyof PrValues) => values[name]));
}

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** The most of each stream kept: stdout's tail (the URL comes last), stderr's head (the reason comes first). */
const MAX_KEPT = 256 * 1024;

/**
 * Runs argv in `cwd` without a shell or a terminal (stdin closed, prompts
 * off), in its own process group so a timeout stops its children too.
 */
export function runCommand(
  argv: readonly string[],
  o: { cwd: string; timeoutMs: number },
): Promise<CommandResult> {
  const [program, ...args] = argv;
  return new Promise((resolve, reject) => {
    const child = spawn(program as string, args, {
      cwd: o.cwd,
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GH_PROMPT_DISABLED: '1' },
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      stdout = (stdout + d).slice(-MAX_KEPT);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      if (stderr.length < MAX_KEPT) stderr = (stderr + d).slice(0, MAX_KEPT);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
      // A child that left the group may still hold the pipes open: stop reading them.
      child.stdout.destroy();
      child.stderr.destroy();
    }, o.timeoutMs);
    child.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(
        new AgentboardError(
          'pr_command_failed',
          err.code === 'ENOENT'
            ? `board.pr_command: ${program} was not found (install it, or give its full path in board.pr_command)`
            : `board.pr_command: could not run ${program}: ${err.message}`,
        ),
      );
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined || pid <= 1) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** The last http(s) URL in `text`, without trailing punctuation; null when there is none. */
export function lastUrl(text: string): string | null {
  const urls = text.match(/https?:\/\/[^\s<>"'`]+/g);
  const last = urls?.[urls.length - 1];
  return last ? last.replace(/[.,;:!?)\]}]+$/, '') : null;
}
