/** The git layer on a real repository: concurrent worktree creation, and the lock that serialises it. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { ensureWorktree, headCommit, removeWorktree } from '../../src/workspace/repo.js';
import { withRepoLock } from '../../src/workspace/repo-lock.js';
import { tempDir } from '../support/tmp.js';
import { createRepo, git } from './helpers.js';

test('many worktrees of one repository created and removed at once all succeed', async () => {
  const root = createRepo();
  const base = await headCommit(root);
  const dirs = Array.from({ length: 8 }, (_, i) => path.join(tempDir('agentboard-wt-'), `T-${i}`));
  const made = await Promise.all(
    dirs.map((dir, i) => ensureWorktree({ root, dir, branch: `b/${i}`, baseCommit: base })),
  );
  assert.ok(made.every((m) => m.created));
  for (const [i, dir] of dirs.entries())
    assert.equal(git(dir, 'symbolic-ref', '--short', 'HEAD'), `b/${i}`);
  // Reuse: a second call finds the worktree in place.
  const again = await ensureWorktree({
    root,
    dir: dirs[0] as string,
    branch: 'b/0',
    baseCommit: base,
  });
  assert.equal(again.created, false);
  // A removal called off under the lock (a run started meanwhile) leaves everything in place.
  assert.equal(await removeWorktree(root, dirs[0] as string, async () => false), false);
  assert.ok(fs.existsSync(path.join(dirs[0] as string, '.git')));
  await Promise.all(dirs.map((dir) => removeWorktree(root, dir)));
  assert.equal(git(root, 'worktree', 'list', '--porcelain').split('\n\n').length, 1);
  assert.ok(dirs.every((d) => !fs.existsSync(d)));
  // The branches stay.
  assert.equal(git(root, 'branch', '--list', 'b/*').split('\n').length, 8);
});

test('the repository lock: one holder at a time; a dead holder’s lock is taken over', async () => {
  const root = createRepo();
  const lock = path.join(root, '.git', 'agentboard-worktrees.lock');
  let inside = 0;
  let maxInside = 0;
  await Promise.all(
    Array.from({ length: 5 }, () =>
      withRepoLock(root, async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        assert.equal(fs.readFileSync(lock, 'utf8'), String(process.pid));
        await new Promise((r) => setTimeout(r, 10));
        inside--;
      }),
    ),
  );
  assert.equal(maxInside, 1);
  assert.equal(fs.existsSync(lock), false);
  // A process that died holding it (pid 4194303 is above any live pid here).
  fs.writeFileSync(lock, '4194303');
  assert.equal(await withRepoLock(root, async () => 'taken over'), 'taken over');
  assert.equal(fs.existsSync(lock), false);
});
