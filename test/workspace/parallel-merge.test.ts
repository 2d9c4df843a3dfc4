/**
 * Two tasks of one repository run at the same time, each in its own
 * worktree, editing the same file: neither sees the other's change, the
 * user's checkout is untouched, and both merge. Then a conflict: nothing is
 * half-merged.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { diffRun, diffTask, mergeTask } from '../../src/app/workspaces.js';
import type { AgentboardError } from '../../src/domain/errors.js';
import { getWorkspace } from '../../src/store/workspaces.js';
import { runsOf, waitFor, waitForStatus } from '../engine/harness.js';
import { runCli } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { checkoutState, createRepo, git, openBoard, wsConfig } from './helpers.js';

/**
 * Each task's agent announces itself, waits until the other has started too
 * (so they really run in parallel), then rewrites the line its task body names.
 */
const EDIT_AGENT = [
  'touch "$SYNC/$AGENTBOARD_TASK_ID"',
  'n=0; while [ "$(ls "$SYNC" | wc -l)" -lt "$PEERS" ] && [ $n -lt 400 ]; do sleep 0.05; n=$((n+1)); done',
  '[ "$(ls "$SYNC" | wc -l)" -ge "$PEERS" ] || exit 3',
  'read -r _ ; read -r _ ; read -r line text',
  'sed -i "s/^line $line\\$/$text/" shared.txt',
  'echo "rewrote line $line of shared.txt"',
].join('\n');

async function editTask(
  board: Awaited<ReturnType<typeof openBoard>>,
  title: string,
  line: number,
  text: string,
) {
  const t = await addTask(board.app, { title, body: `${line} ${text}`, agent: 'bot' });
  return Number(t.id.slice(2));
}

test('parallel tasks edit the same file in their own worktrees; both merge; the user checkout is untouched', async () => {
  const repo = createRepo();
  const sync = tempDir('agentboard-sync-');
  // The user has work of their own in progress: an untracked file.
  fs.writeFileSync(path.join(repo, 'notes.txt'), 'my own notes\n');
  const before = checkoutState(repo);
  const board = await openBoard(repo, wsConfig(EDIT_AGENT, { env: { SYNC: sync, PEERS: '2' } }));
  try {
    const t1 = await editTask(board, 'Top line', 2, 'line 2 by T-1');
    const t2 = await editTask(board, 'Bottom line', 9, 'line 9 by T-2');
    await waitForStatus(board.app, t1, 'review', 20_000);
    await waitForStatus(board.app, t2, 'review', 20_000);
    // Both agents were up at once: each saw the other's marker before editing.
    assert.deepEqual(fs.readdirSync(sync).sort(), ['T-1', 'T-2']);

    const w1 = await getWorkspace(board.app.store.db, t1);
    const w2 = await getWorkspace(board.app.store.db, t2);
    assert.ok(w1 && w2);
    assert.equal(w1.path, path.join(board.home, 'worktrees', 'T-1'));
    assert.equal(w1.branch, 'agentboard/T-1-top-line');
    assert.equal(w2.branch, 'agentboard/T-2-bottom-line');
    assert.equal(w1.base_branch, 'main');
    // Each worktree holds only its own task's edit.
    const f1 = fs.readFileSync(path.join(w1.path, 'shared.txt'), 'utf8');
    const f2 = fs.readFileSync(path.join(w2.path, 'shared.txt'), 'utf8');
    assert.match(f1, /^line 2 by T-1$/m);
    assert.doesNotMatch(f1, /by T-2/);
    assert.match(f2, /^line 9 by T-2$/m);
    assert.doesNotMatch(f2, /by T-1/);
    assert.equal(checkoutState(repo), before, 'the user checkout changed during the runs');

    // Every run recorded the commits it started and ended at; the commit is the agent's.
    const [r1] = await runsOf(board.app, t1);
    assert.ok(r1?.commit_before && r1.commit_after);
    assert.equal(r1.commit_before, git(repo, 'rev-parse', 'main'));
    assert.equal(r1.commit_after, git(repo, 'rev-parse', w1.branch));
    assert.equal(git(repo, 'log', '-1', '--format=%s', w1.branch), 'rewrote line 2 of shared.txt');
    assert.equal(
      git(repo, 'log', '-1', '--format=%an <%ae>', w1.branch),
      'agentboard <agentboard@localhost>',
    );
    assert.match(git(repo, 'log', '-1', '--format=%b', w1.branch), /Agentboard-Run: r/);

    const runs = await runCli(board.home, ['runs', '--task', 'T-1', '--json']);
    assert.deepEqual(JSON.parse(runs.stdout)[0].commits, {
      before: r1.commit_before,
      after: r1.commit_after,
    });

    // Diff: per run and cumulative, through the use cases and the CLI.
    const d1 = await diffTask(board.app, t1);
    assert.deepEqual(d1.files, [{ path: 'shared.txt', added: 1, removed: 1 }]);
    assert.match(d1.patch, /^-line 2$/m);
    assert.match(d1.patch, /^\+line 2 by T-1$/m);
    const dr = await diffRun(board.app, r1.id);
    assert.equal(dr.patch, d1.patch);
    const cli = await runCli(board.home, ['diff', 'T-2']);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /^\+line 9 by T-2$/m);
    const stat = await runCli(board.home, ['diff', 'T-2', '--stat']);
    assert.match(stat.stdout, /\+1 -1\s+shared\.txt/);

    // Merge both: the checkout is on main and clean (apart from untracked
    // files, which git keeps), so it moves forward as with `git merge`.
    const m1 = await runCli(board.home, ['merge', 'T-1', '--json']);
    assert.equal(m1.code, 0, m1.stderr);
    assert.equal(JSON.parse(m1.stdout).outcome, 'merged');
    const m2 = await mergeTask(board.app, t2, { squash: true });
    assert.equal(m2.outcome, 'merged');
    const merged = fs.readFileSync(path.join(repo, 'shared.txt'), 'utf8');
    assert.match(merged, /^line 2 by T-1$/m);
    assert.match(merged, /^line 9 by T-2$/m);
    assert.equal(fs.readFileSync(path.join(repo, 'notes.txt'), 'utf8'), 'my own notes\n');
    assert.equal(git(repo, 'status', '--porcelain'), '?? notes.txt');
    // A merge commit for T-1, a single-parent squash commit for T-2.
    assert.equal(git(repo, 'log', '-1', '--format=%P', 'main').split(' ').length, 1);
    assert.equal(git(repo, 'log', '-1', '--format=%P', 'main~1').split(' ').length, 2);
    // Merging again is a no-op.
    assert.equal((await mergeTask(board.app, t1)).outcome, 'up_to_date');
  } finally {
    await board.close();
  }
});

test('a conflicting merge is refused with the files named, and leaves nothing half-merged', async () => {
  const repo = createRepo();
  const sync = tempDir('agentboard-sync-');
  const board = await openBoard(repo, wsConfig(EDIT_AGENT, { env: { SYNC: sync, PEERS: '2' } }));
  try {
    const t1 = await editTask(board, 'Mine', 5, 'line 5 by T-1');
    const t2 = await editTask(board, 'Theirs', 5, 'line 5 by T-2');
    await waitForStatus(board.app, t1, 'review', 20_000);
    await waitForStatus(board.app, t2, 'review', 20_000);
    assert.equal((await mergeTask(board.app, t1)).outcome, 'merged');

    const before = checkoutState(repo);
    const mainBefore = git(repo, 'rev-parse', 'main');
    const w2 = await getWorkspace(board.app.store.db, t2);
    assert.ok(w2);
    const branchBefore = git(repo, 'rev-parse', w2.branch);
    await assert.rejects(
      mergeTask(board.app, t2),
      (e: AgentboardError) =>
        e.code === 'merge_conflict' &&
        /T-2 cannot be merged into main: conflicts in shared\.txt\. Nothing was changed/.test(
          e.message,
        ),
    );
    const cli = await runCli(board.home, ['merge', 'T-2', '--squash']);
    assert.equal(cli.code, 1);
    assert.match(cli.stderr, /^error: T-2 cannot be merged into main: conflicts in shared\.txt/);
    // Nothing moved, nothing was written into any work tree.
    assert.equal(git(repo, 'rev-parse', 'main'), mainBefore);
    assert.equal(git(repo, 'rev-parse', w2.branch), branchBefore);
    assert.equal(checkoutState(repo), before);
    assert.equal(git(w2.path, 'status', '--porcelain'), '');
    for (const dir of [repo, w2.path]) {
      const gitDir = git(dir, 'rev-parse', '--absolute-git-dir');
      assert.equal(fs.existsSync(path.join(gitDir, 'MERGE_HEAD')), false);
    }
    assert.equal((await getWorkspace(board.app.store.db, t2))?.merged_at, null);
    await waitFor('no stray run', async () => (await runsOf(board.app, t2)).length === 1);
  } finally {
    await board.close();
  }
});
