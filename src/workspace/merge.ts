/**
 * Merging a task branch into its base without ever touching a work tree
 * until the result is known to be clean: `git merge-tree --write-tree`
 * computes the merged tree inside the object store, so a conflict leaves
 * nothing behind (no MERGE_HEAD, no conflict markers, no moved ref).
 */
import { AgentboardError, ConflictError } from '../domain/errors.js';
import { firstLine, git, gitOut } from './git.js';
import { branchCommit, checkedOutBranches, hasTrackedChanges } from './repo.js';

export interface MergeRequest {
  root: string;
  base: string;
  branch: string;
  squash: boolean;
  message: string;
  /** Names the task in messages, e.g. "T-3". */
  label: string;
}

export type MergeOutcome =
  | { kind: 'merged'; commit: string; previousBase: string; updatedCheckout: string | null }
  | { kind: 'up_to_date'; commit: string };

export async function mergeIntoBase(m: MergeRequest): Promise<MergeOutcome> {
  const baseSha = await mustResolve(m.root, m.base, 'base branch');
  const branchSha = await mustResolve(m.root, m.branch, 'task branch');
  const contained = await git(m.root, ['merge-base', '--is-ancestor', branchSha, baseSha], {
    allowFail: true,
  });
  if (contained.code === 0) return { kind: 'up_to_date', commit: baseSha };

  // Refuse before doing any work if the result could not be put in place.
  const checkout = (await checkedOutBranches(m.root)).get(m.base) ?? null;
  if (checkout !== null && (await hasTrackedChanges(checkout))) {
    throw new ConflictError(
      'base_checkout_dirty',
      `${m.base} is checked out in ${checkout} with uncommitted changes, and agentboard never touches uncommitted work: commit or stash them (or check out another branch there), then merge ${m.label} again. Nothing was changed.`,
      { checkout, base: m.base },
    );
  }

  const tree = await mergedTree(m, baseSha, branchSha);
  const parents = m.squash ? ['-p', baseSha] : ['-p', baseSha, '-p', branchSha];
  const commit = await gitOut(m.root, ['commit-tree', tree, ...parents, '-m', m.message]);

  if (checkout === null) {
    // Compare-and-swap: fails if the base moved since it was read.
    const r = await git(
      m.root,
      ['update-ref', '-m', `agentboard: merge ${m.label}`, `refs/heads/${m.base}`, commit, baseSha],
      { allowFail: true },
    );
    if (r.code !== 0) throw baseMoved(m);
    return { kind: 'merged', commit, previousBase: baseSha, updatedCheckout: null };
  }
  // The base is checked out and clean: move it forward as `git merge` would.
  // --ff-only refuses (changing nothing) if the branch moved meanwhile or an
  // untracked file would be overwritten.
  const ff = await git(checkout, ['merge', '--ff-only', '--quiet', commit], { allowFail: true });
  if (ff.code !== 0) {
    throw new ConflictError(
      'base_checkout_refused',
      `could not move ${m.base} in ${checkout} forward to the merge of ${m.label}: ${firstLine(ff.stderr || ff.stdout)}. Nothing was changed; fix that and merge again.`,
      { checkout, base: m.base },
    );
  }
  return { kind: 'merged', commit, previousBase: baseSha, updatedCheckout: checkout };
}

async function mergedTree(m: MergeRequest, baseSha: string, branchSha: string): Promise<string> {
  const r = await git(
    m.root,
    ['merge-tree', '--write-tree', '--name-only', '--no-messages', baseSha, branchSha],
    { allowFail: true },
  );
  const lines = r.stdout.split('\n');
  const tree = lines[0]?.trim() ?? '';
  if (r.code === 0 && tree) return tree;
  if (r.code === 1) {
    const files = [...new Set(lines.slice(1).filter((l) => l.trim() !== ''))];
    throw new ConflictError(
      'merge_conflict',
      `${m.label} cannot be merged into ${m.base}: conflicts in ${files.join(', ')}. Nothing was changed. Resolve them on the task branch (in its worktree: git merge ${m.base}, fix, commit), then merge again.`,
      { files, base: m.base, branch: m.branch },
    );
  }
  throw new AgentboardError(
    'git_failed',
    `git merge-tree failed: ${firstLine(r.stderr)} (git 2.38 or newer is needed to merge)`,
  );
}

async function mustResolve(root: string, branch: string, what: string): Promise<string> {
  const sha = await branchCommit(root, branch);
  if (sha === null) {
    throw new AgentboardError('branch_missing', `the ${what} ${branch} does not exist in ${root}`);
  }
  return sha;
}

function baseMoved(m: MergeRequest): ConflictError {
  return new ConflictError(
    'base_moved',
    `${m.base} moved while ${m.label} was being merged: nothing was changed; merge again`,
  );
}
