/**
 * What goes wrong says so and changes nothing: a board that is not in a git
 * repository, unknown tasks, tasks without a worktree, a merge while the
 * user's checkout of the base has uncommitted work, a run still active, a
 * failing setup command. Also: setup output, discard, and `workspace: none`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { mergeTask } from '../../src/app/workspaces.js';
import { runDir } from '../../src/config/home.js';
import type { AgentboardError } from '../../src/domain/errors.js';
import { getWorkspace } from '../../src/store/workspaces.js';
import { runsOf, waitForRun, waitForStatus } from '../engine/harness.js';
import { runCli } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { createRepo, git, openBoard, type WsBoard, wsConfig } from './helpers.js';

const WRITE = 'echo "edit by $AGENTBOARD_TASK_ID" >> shared.txt; echo "edited shared.txt"';

async function doneTask(board: WsBoard, title = 'Edit'): Promise<number> {
  const t = await addTask(board.app, { title, agent: 'bot' });
  const id = Number(t.id.slice(2));
  await waitForStatus(board.app, id, 'review', 20_000);
  return id;
}

test('a board outside any git repository: the run is blocked with what to do, nothing is created', async () => {
  const dir = tempDir('agentboard-norepo-');
  const board = await openBoard(dir, wsConfig(WRITE));
  try {
    const t = await addTask(board.app, { title: 'Nowhere', agent: 'bot' });
    const id = Number(t.id.slice(2));
    const blocked = await waitForStatus(board.app, id, 'blocked', 20_000);
    assert.match(
      blocked.status_reason ?? '',
      /workspace: worktree needs a git repository, and .* is not in one: run `git init` there/,
    );
    assert.equal(fs.existsSync(path.join(board.home, 'worktrees')), false);
    assert.equal(fs.existsSync(path.join(dir, 'shared.txt')), false);
    const diff = await runCli(board.home, ['diff', `T-${id}`]);
    assert.equal(diff.code, 1);
    assert.match(diff.stderr, /^error: workspace of task T-1 not found: it has none/);
  } finally {
    await board.close();
  }
});

test('unknown tasks, bad ids and tasks without a worktree', async () => {
  const repo = createRepo();
  // The board says worktree; the agent's own setting wins.
  const board = await openBoard(repo, wsConfig(WRITE, { agent: { workspace: 'shared' } }));
  try {
    const id = await doneTask(board);
    // Shared mode: the agent worked in the checkout itself, so there is no worktree.
    assert.match(fs.readFileSync(path.join(repo, 'shared.txt'), 'utf8'), /edit by T-1/);
    for (const cmd of ['diff', 'merge', 'discard']) {
      const unknown = await runCli(board.home, [cmd, 'T-99']);
      assert.equal(unknown.code, 1, cmd);
      assert.match(unknown.stderr, /^error: task T-99 not found/, cmd);
      const bad = await runCli(board.home, [cmd, 'nonsense']);
      assert.equal(bad.code, 2, cmd);
      assert.match(bad.stderr, /"nonsense" is not a task id/, cmd);
      const none = await runCli(board.home, [cmd, `T-${id}`]);
      assert.equal(none.code, 1, cmd);
      assert.match(
        none.stderr,
        /workspace of task T-1 not found: it has none: workspaces are created by runs when board.workspace/,
        cmd,
      );
    }
    const badAge = await runCli(board.home, ['gc', '--older-than', 'soon']);
    assert.equal(badAge.code, 2);
    assert.match(badAge.stderr, /"soon" is not a duration/);
  } finally {
    await board.close();
  }
});

test('merge never touches uncommitted work in the user checkout; it refuses while a run is active', async () => {
  const repo = createRepo();
  const board = await openBoard(repo, wsConfig(WRITE));
  try {
    const id = await doneTask(board);
    const ws = await getWorkspace(board.app.store.db, id);
    assert.ok(ws);
    // The user is editing shared.txt on main.
    fs.appendFileSync(path.join(repo, 'shared.txt'), 'my uncommitted line\n');
    const mine = fs.readFileSync(path.join(repo, 'shared.txt'), 'utf8');
    const main = git(repo, 'rev-parse', 'main');
    await assert.rejects(mergeTask(board.app, id), (e: AgentboardError) => {
      assert.equal(e.code, 'base_checkout_dirty');
      assert.match(
        e.message,
        /main is checked out in .* with uncommitted changes.*commit or stash them.*Nothing was changed/,
      );
      return true;
    });
    assert.equal(git(repo, 'rev-parse', 'main'), main);
    assert.equal(fs.readFileSync(path.join(repo, 'shared.txt'), 'utf8'), mine);

    // On another branch (taking the uncommitted edit along), the checkout is
    // not the base's any more: main moves, the checkout stays exactly as it was.
    git(repo, 'checkout', '--quiet', '-b', 'experiment');
    const r = await mergeTask(board.app, id);
    assert.equal(r.outcome, 'merged');
    assert.equal(r.updatedCheckout, null);
    assert.equal(git(repo, 'rev-parse', 'main'), r.commit);
    assert.equal(git(repo, 'rev-parse', 'HEAD'), main);
    assert.equal(git(repo, 'symbolic-ref', '--short', 'HEAD'), 'experiment');
    assert.equal(fs.readFileSync(path.join(repo, 'shared.txt'), 'utf8'), mine);
    assert.equal(git(repo, 'show', 'main:shared.txt').includes('edit by T-1'), true);

    // A task with a run in progress cannot be merged or discarded.
    const cfg = board.app.config.agents.bot;
    assert.ok(cfg);
    cfg.args = ['-c', 'echo started; sleep 60'];
    const slow = await addTask(board.app, { title: 'Slow', agent: 'bot' });
    const slowId = Number(slow.id.slice(2));
    await waitForRun(board.app, slowId, 'running', 20_000);
    for (const cmd of ['merge', 'discard']) {
      const busy = await runCli(board.home, [cmd, `T-${slowId}`]);
      assert.equal(busy.code, 1);
      assert.match(
        busy.stderr,
        /T-2 has an active run \(r[0-9a-z]+, running\): wait for it to end or stop it/,
      );
    }
    assert.ok(fs.existsSync(path.join(board.home, 'worktrees', 'T-2')));
    const [slowRun] = await runsOf(board.app, slowId);
    assert.ok(slowRun);
    const early = await runCli(board.home, ['diff', slowRun.id]);
    assert.equal(early.code, 1);
    assert.match(
      early.stderr,
      /has not ended yet \(running\): its changes are committed when it ends/,
    );
  } finally {
    await board.close();
  }
});

test('setup runs before the agent, into the run logs; a failing setup fails the run', async () => {
  const repo = createRepo();
  const board = await openBoard(
    repo,
    wsConfig('echo "agent ran"; ls', { board: { setup: 'echo setting up; touch .ready' } }),
  );
  try {
    const id = await doneTask(board);
    const [run] = await runsOf(board.app, id);
    assert.ok(run);
    const dir = runDir(board.app.paths, run.id);
    assert.equal(fs.readFileSync(path.join(dir, 'stderr.log'), 'utf8'), 'setting up\n');
    // stdout is the agent's alone, and the agent saw what setup made.
    const out = fs.readFileSync(path.join(dir, 'stdout.log'), 'utf8');
    assert.match(out, /^agent ran\n/);
    assert.doesNotMatch(out, /setting up/);

    board.app.config.board.setup = 'echo cannot install >&2; exit 7';
    const t2 = await addTask(board.app, { title: 'Broken setup', agent: 'bot' });
    const id2 = Number(t2.id.slice(2));
    const blocked = await waitForStatus(board.app, id2, 'blocked', 20_000);
    assert.match(blocked.status_reason ?? '', /exit 7/);
    const [r2] = await runsOf(board.app, id2);
    assert.ok(r2);
    const err = fs.readFileSync(path.join(runDir(board.app.paths, r2.id), 'stderr.log'), 'utf8');
    assert.match(err, /^cannot install\nagentboard: setup command failed \(exit 7\)/);
    assert.equal(
      fs.readFileSync(path.join(runDir(board.app.paths, r2.id), 'stdout.log'), 'utf8'),
      '',
    );
  } finally {
    await board.close();
  }
});

test('discard deletes the worktree and the branch; the next run starts afresh from the base', async () => {
  const repo = createRepo();
  const board = await openBoard(repo, wsConfig(WRITE));
  try {
    const id = await doneTask(board, 'Throw away');
    const ws = await getWorkspace(board.app.store.db, id);
    assert.ok(ws);
    const head = git(repo, 'rev-parse', ws.branch);
    const r = await runCli(board.home, ['discard', `T-${id}`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`deleted ${ws.branch} \\(was ${head.slice(0, 12)}`));
    assert.equal(fs.existsSync(ws.path), false);
    assert.equal(git(repo, 'branch', '--list', ws.branch), '');
    assert.equal(git(repo, 'worktree', 'list', '--porcelain').includes(ws.path), false);
    const diff = await runCli(board.home, ['diff', `T-${id}`]);
    assert.match(diff.stderr, /it was discarded/);

    await runCli(board.home, ['run', `T-${id}`]);
    await waitForStatus(board.app, id, 'review', 20_000);
    const again = await getWorkspace(board.app.store.db, id);
    assert.equal(again?.discarded_at, null);
    // One edit only: the discarded one is gone.
    assert.equal(
      fs.readFileSync(path.join(ws.path, 'shared.txt'), 'utf8').match(/edit by/g)?.length,
      1,
    );
  } finally {
    await board.close();
  }
});

test('workspace: none gives each run an empty directory of its own', async () => {
  const repo = createRepo();
  const board = await openBoard(
    repo,
    wsConfig('pwd; ls -A | wc -l', { board: { workspace: 'none' } }),
  );
  try {
    const id = await doneTask(board);
    const [run] = await runsOf(board.app, id);
    assert.ok(run);
    const out = fs.readFileSync(path.join(runDir(board.app.paths, run.id), 'stdout.log'), 'utf8');
    assert.equal(
      out,
      `${path.join(fs.realpathSync(runDir(board.app.paths, run.id)), 'work')}\n0\n`,
    );
    assert.equal(run.commit_before, null);
  } finally {
    await board.close();
  }
});
