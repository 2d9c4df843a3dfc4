/** Repository-level git operations for task worktrees. Every path is absolute. */
import fs from 'node:fs';
import path from 'node:path';
import { AgentboardError, ConfigError } from '../domain/errors.js';
import { git, gitOut } from './git.js';
import { withRepoLock } from './repo-lock.js';

export interface RepoInfo {
  /** The top level of the checkout that holds the board's workdir. */
  root: string;
  /** The workdir relative to `root` ('' at the top): agents start there in their worktree too. */
  subdir: string;
}

/** The git checkout around `workdir`, or a clear error when there is none. */
export async function repoOf(workdir: string): Promise<RepoInfo> {
  if (!fs.existsSync(workdir)) {
    throw new ConfigError(`workspace: worktree: the board's workdir ${workdir} does not exist`);
  }
  const r = await git(workdir, ['rev-parse', '--show-toplevel'], { allowFail: true });
  if (r.code !== 0) {
    throw new ConfigError(
      `workspace: worktree needs a git repository, and ${workdir} is not in one: run \`git init\` there (and commit), point board.workdir at a repository, or set board.workspace: shared`,
      { workdir },
    );
  }
  const root = fs.realpathSync(r.stdout.trim());
  return { root, subdir: path.relative(root, fs.realpathSync(workdir)) };
}

/** The branch checked out in `dir`, or null on a detached HEAD. */
export async function currentBranch(dir: string): Promise<string | null> {
  const r = await git(dir, ['symbolic-ref', '--quiet', '--short', 'HEAD'], { allowFail: true });
  return r.code === 0 ? r.stdout.trim() : null;
}

/** The commit a local branch points at, or null if there is no such branch. */
export async function branchCommit(root: string, branch: string): Promise<string | null> {
  const r = await git(
    root,
    ['rev-parse', '--verify', '--quiet', '--end-of-options', `refs/heads/${branch}^{commit}`],
    { allowFail: true },
  );
  return r.code === 0 ? r.stdout.trim() : null;
}

export async function headCommit(dir: string): Promise<string> {
  return gitOut(dir, ['rev-parse', 'HEAD']);
}

/** Local branches checked out in some worktree, mapped to that worktree's path. */
export async function checkedOutBranches(root: string): Promise<Map<string, string>> {
  const out = await gitOut(root, ['worktree', 'list', '--porcelain']);
  const map = new Map<string, string>();
  let wt = '';
  for (const line of out.split('\n')) {
    if (line.startsWith('worktree ')) wt = line.slice('worktree '.length);
    else if (line.startsWith('branch refs/heads/'))
      map.set(line.slice('branch refs/heads/'.length), wt);
  }
  return map;
}

/**
 * Makes `dir` a worktree of `root` on `branch`, creating the branch from
 * `baseCommit` if it does not exist yet. An existing worktree is reused.
 * Checked and created under the repository lock, so a concurrent removal
 * (gc, discard) finishes first and the worktree is then made again.
 */
export async function ensureWorktree(o: {
  root: string;
  dir: string;
  branch: string;
  baseCommit: string;
}): Promise<{ created: boolean }> {
  return withRepoLock(o.root, async () => {
    if (fs.existsSync(path.join(o.dir, '.git'))) {
      const on = await currentBranch(o.dir);
      if (on !== o.branch) {
        throw new AgentboardError(
          'workspace_mismatch',
          `${o.dir} is a worktree on ${on ?? 'a detached HEAD'}, not on ${o.branch}: check out ${o.branch} there, or remove it (\`agentboard discard\`)`,
        );
      }
      return { created: false };
    }
    if (fs.existsSync(o.dir) && fs.readdirSync(o.dir).length > 0) {
      throw new AgentboardError(
        'workspace_occupied',
        `${o.dir} exists and is not a git worktree: move it away so the task's worktree can be created there`,
      );
    }
    fs.mkdirSync(path.dirname(o.dir), { recursive: true, mode: 0o700 });
    // A worktree directory deleted by hand leaves a stale entry that would block re-adding it.
    await git(o.root, ['worktree', 'prune']);
    const exists = (await branchCommit(o.root, o.branch)) !== null;
    await git(
      o.root,
      exists
        ? ['worktree', 'add', '--quiet', o.dir, o.branch]
        : ['worktree', 'add', '--quiet', '-b', o.branch, o.dir, o.baseCommit],
    );
    return { created: true };
  });
}

/**
 * Commits everything in the worktree (new, changed and deleted files; what
 * .gitignore names stays out). Returns HEAD afterwards, which is unchanged
 * when there was nothing to commit.
 */
export async function commitAll(dir: string, message: string): Promise<string> {
  await git(dir, ['add', '--all']);
  const staged = await git(dir, ['diff', '--cached', '--quiet'], { allowFail: true });
  if (staged.code === 1) await git(dir, ['commit', '--quiet', '--no-verify', '-m', message]);
  return headCommit(dir);
}

/** Uncommitted changes to tracked files (untracked files are left out: git protects those itself). */
export async function hasTrackedChanges(dir: string): Promise<boolean> {
  const out = await gitOut(dir, ['status', '--porcelain', '--untracked-files=no']);
  return out.length > 0;
}

/** Any uncommitted change, untracked files included. */
export async function hasAnyChanges(dir: string): Promise<boolean> {
  const out = await gitOut(dir, ['status', '--porcelain']);
  return out.length > 0;
}

/**
 * Removes a worktree directory and git's record of it; the branch stays.
 * `stillWanted`, checked under the repository lock, can call it off (a run
 * started meanwhile): then nothing is removed and false is returned.
 */
export async function removeWorktree(
  root: string,
  dir: string,
  stillWanted: () => Promise<boolean> = async () => true,
): Promise<boolean> {
  return withRepoLock(root, async () => {
    if (!(await stillWanted())) return false;
    if (fs.existsSync(path.join(dir, '.git'))) {
      const r = await git(root, ['worktree', 'remove', '--force', '--force', dir], {
        allowFail: true,
      });
      if (r.code === 0) return true;
    }
    fs.rmSync(dir, { recursive: true, force: true });
    await git(root, ['worktree', 'prune'], { allowFail: true });
    return true;
  });
}

export async function deleteBranch(root: string, branch: string): Promise<void> {
  await git(root, ['branch', '--quiet', '-D', '--', branch]);
}
