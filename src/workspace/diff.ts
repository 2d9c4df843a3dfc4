import { git, gitOut } from './git.js';

export interface FileChange {
  path: string;
  /** null for binary files. */
  added: number | null;
  removed: number | null;
}

export interface Diff {
  from: string;
  to: string;
  files: FileChange[];
  /** The unified diff, as `git diff` prints it (binary files are named, not included). */
  patch: string;
}

/** The changes from commit `from` to commit `to`, with renames detected. */
export async function diffCommits(dir: string, from: string, to: string): Promise<Diff> {
  const range = [from, to, '--'];
  const [numstat, patch] = await Promise.all([
    gitOut(dir, ['diff', '--no-color', '--no-ext-diff', '-M', '--numstat', '-z', ...range]),
    git(dir, ['diff', '--no-color', '--no-ext-diff', '-M', ...range]),
  ]);
  return { from, to, files: parseNumstat(numstat), patch: patch.stdout };
}

/**
 * `--numstat -z` prints `added\tremoved\tpath\0` per file, and for a rename
 * `added\tremoved\t\0old\0new\0`; binary files have `-` for both counts.
 */
function parseNumstat(out: string): FileChange[] {
  const parts = out.split('\0');
  const files: FileChange[] = [];
  for (let i = 0; i < parts.length; i++) {
    const head = parts[i];
    if (!head) continue;
    const [added, removed, name] = head.split('\t');
    let file = name ?? '';
    if (file === '') {
      i += 2;
      file = parts[i] ?? '';
    }
    const n = (v: string | undefined) => (v === undefined || v === '-' ? null : Number(v));
    files.push({ path: file, added: n(added), removed: n(removed) });
  }
  return files;
}

/** The commit where `branch` left `base`: a task's changes are counted from there. */
export async function mergeBase(dir: string, a: string, b: string): Promise<string> {
  return gitOut(dir, ['merge-base', a, b]);
}
