/**
 * git as a subprocess: always an argv array through execFile, never a shell,
 * with a fixed identity and no user configuration that could prompt, sign or
 * run hooks, so the same call behaves alike on every machine.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { AgentboardError } from '../domain/errors.js';

/** Who agentboard's commits are by; set per call, so no global git config is needed. */
export const AGENTBOARD_IDENTITY = { name: 'agentboard', email: 'agentboard@localhost' };

const FIXED_CONFIG = [
  '-c',
  `user.name=${AGENTBOARD_IDENTITY.name}`,
  '-c',
  `user.email=${AGENTBOARD_IDENTITY.email}`,
  '-c',
  'commit.gpgsign=false',
  '-c',
  'core.hooksPath=/dev/null',
];

const MAX_OUTPUT = 64 * 1024 * 1024;
const LOCK_RETRIES = 5;

export class GitError extends AgentboardError {
  constructor(
    readonly args: string[],
    readonly exit: number | null,
    readonly stderr: string,
    readonly stdout: string,
  ) {
    super('git_failed', `git ${args.join(' ')} failed: ${firstLines(stderr || stdout)}`, {
      details: { args, exit },
    });
  }
}

export interface GitResult {
  stdout: string;
  stderr: string;
  code: number;
}

/** Runs git in `cwd`; rejects with GitError on a non-zero exit unless `allowFail`. */
export async function git(
  cwd: string,
  args: string[],
  opts: { allowFail?: boolean; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<GitResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await execGit(cwd, args, opts);
    // Another git process (a parallel task's commit, the user) holds a lock: wait a little.
    if (r.code !== 0 && /\.lock'?: File exists|Unable to create .*\.lock/.test(r.stderr)) {
      if (attempt < LOCK_RETRIES) {
        await new Promise((res) => setTimeout(res, 50 * attempt + Math.random() * 50));
        continue;
      }
    }
    if (r.code !== 0 && !opts.allowFail) throw new GitError(args, r.code, r.stderr, r.stdout);
    return r;
  }
}

/** The trimmed standard output of a git command that must succeed. */
export async function gitOut(cwd: string, args: string[]): Promise<string> {
  return (await git(cwd, args)).stdout.trim();
}

function execGit(
  cwd: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number },
): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    execFile(
      'git',
      [...FIXED_CONFIG, ...args],
      {
        cwd,
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', ...opts.env },
        maxBuffer: MAX_OUTPUT,
        timeout: opts.timeoutMs ?? 120_000,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err && typeof (err as { code?: unknown }).code === 'string') {
          const code = (err as NodeJS.ErrnoException).code;
          const gitMissing = code === 'ENOENT' && fs.existsSync(cwd);
          reject(
            new AgentboardError(
              'git_unavailable',
              gitMissing
                ? 'git is not installed or not on PATH: install git to use workspace: worktree'
                : `could not run git in ${cwd}: ${err.message}`,
            ),
          );
          return;
        }
        if (err && (err.killed || err.signal)) {
          // Never mistaken for an exit status git gives a meaning to (merge-tree's 1 = conflicts).
          resolve({
            stdout,
            stderr: `${stderr}\ngit was stopped (${err.signal ?? 'timeout'})`,
            code: -1,
          });
          return;
        }
        const code = err ? ((err as { code?: number }).code ?? 1) : 0;
        resolve({ stdout, stderr, code });
      },
    );
  });
}

function firstLines(s: string): string {
  return s.trim().split('\n').slice(0, 4).join(' / ') || '(no output)';
}

/** The first non-empty line of `text` (a failed command's reason), or a note that there was none. */
export function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? '(nothing on stderr)'
  );
}
