/**
 * gc on a real board: `--dry-run` lists exactly what a real gc then removes;
 * only finished tasks past retention lose their run directories and
 * worktrees; active runs are never touched; the branches stay, so a later
 * run gets its worktree back. And the engine's scheduled gc keeps its last
 * run time in the database across restarts.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GcItem, GcReport } from '../../src/app/gc.js';
import { startRun } from '../../src/app/runs.js';
import { addTask, moveTask } from '../../src/app/tasks.js';
import { runDir } from '../../src/config/home.js';
import { getMaintenance, getWorkspace } from '../../src/store/workspaces.js';
import { runsOf, waitFor, waitForRun, waitForStatus } from '../engine/harness.js';
import { runCli } from '../support/server.js';
import { createRepo, git, openBoard, type WsBoard, wsConfig } from './helpers.js';

/** The task body says what the agent does: ok (commit a file), fail, or hang. */
const SCRIPT = [
  'read -r _ ; read -r _ ; read -r what',
  'case "$what" in',
  '  fail) echo broken >&2; exit 1 ;;',
  '  hang) echo waiting; sleep 60 ;;',
  '  *) echo "work of $AGENTBOARD_TASK_ID" > "$AGENTBOARD_TASK_ID.txt"; echo "wrote a file" ;;',
  'esac',
].join('\n');

async function taskDoing(board: WsBoard, what: 'ok' | 'fail' | 'hang', title: string) {
  const t = await addTask(board.app, { title, body: what, agent: 'bot' });
  return Number(t.id.slice(2));
}

const DAY = 86_400_000;

/** Backdates a task and its runs, as if they had finished days ago. */
async function age(board: WsBoard, taskId: number, days: number) {
  const t = Date.now() - days * DAY;
  await board.app.store.db
    .updateTable('tasks')
    .set({ updated_at: t })
    .where('id', '=', taskId)
    .execute();
  await board.app.store.db
    .updateTable('runs')
    .set({ created_at: t, ended_at: t })
    .where('task_id', '=', taskId)
    .where('ended_at', 'is not', null)
    .execute();
}

async function gcCli(board: WsBoard, ...args: string[]): Promise<GcReport> {
  const r = await runCli(board.home, ['gc', '--json', ...args]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as GcReport;
}

const names = (items: GcItem[]) => items.map((i) => `${i.kind} ${i.task} ${i.id}`).sort();

test('gc --dry-run lists exactly what gc removes: finished tasks past retention, never active runs', {
  timeout: 90_000,
}, async () => {
  const board = await openBoard(createRepo(), wsConfig(SCRIPT));
  try {
    const app = board.app;
    const done = await taskDoing(board, 'ok', 'Old and done');
    const recent = await taskDoing(board, 'ok', 'Recently done');
    const blocked = await taskDoing(board, 'fail', 'Old and failed');
    const review = await taskDoing(board, 'ok', 'Old, in review');
    const active = await taskDoing(board, 'hang', 'Still running');
    for (const id of [done, recent, review]) await waitForStatus(app, id, 'review', 20_000);
    await waitForStatus(app, blocked, 'blocked', 20_000);
    await waitForRun(app, active, 'running', 20_000);
    await moveTask(app, done, 'done');
    await moveTask(app, recent, 'done');
    for (const id of [done, blocked, review, active]) await age(board, id, 10);

    const runOf = async (id: number) => (await runsOf(app, id))[0]?.id ?? '';
    const [doneRun, blockedRun] = [await runOf(done), await runOf(blocked)];
    const dry = await gcCli(board, '--older-than', '7d', '--dry-run');
    assert.equal(dry.dryRun, true);
    assert.deepEqual(
      names(dry.removed),
      [
        `run_dir T-${done} ${doneRun}`,
        `run_dir T-${blocked} ${blockedRun}`,
        `worktree T-${done} T-${done}`,
        `worktree T-${blocked} T-${blocked}`,
      ].sort(),
    );
    assert.ok(dry.removed.every((i) => i.bytes > 0));
    assert.equal(
      dry.bytesFreed,
      dry.removed.reduce((s, i) => s + i.bytes, 0),
    );
    // A dry run removes nothing.
    for (const i of dry.removed) assert.ok(fs.existsSync(i.path), i.path);

    const keepFailed = await gcCli(board, '--older-than', '7d', '--dry-run', '--keep-failed');
    assert.deepEqual(names(keepFailed.removed), [
      `run_dir T-${done} ${doneRun}`,
      `worktree T-${done} T-${done}`,
    ]);

    const real = await gcCli(board, '--older-than', '7d');
    assert.equal(real.dryRun, false);
    assert.deepEqual(real.removed, dry.removed);
    assert.deepEqual(real.skipped, dry.skipped);
    assert.equal(real.bytesFreed, dry.bytesFreed);
    for (const i of real.removed) assert.equal(fs.existsSync(i.path), false, i.path);
    // Everything else is still there, the active run's directory and worktree included.
    for (const id of [recent, review, active]) {
      assert.ok(fs.existsSync(runDir(app.paths, await runOf(id))));
      assert.ok(fs.existsSync(path.join(board.home, 'worktrees', `T-${id}`, '.git')));
    }
    assert.equal((await runsOf(app, active))[0]?.state, 'running');
    // The human-readable report says what was freed.
    const again = await runCli(board.home, ['gc', '--older-than', '7d', '--dry-run']);
    assert.match(again.stdout, /would free 0 B/);

    // The branch was kept: running the task again brings its worktree and work back.
    const ws = await getWorkspace(app.store.db, done);
    assert.ok(ws?.removed_at);
    assert.ok(git(board.repo, 'rev-parse', ws.branch));
    await startRun(app, done);
    await waitForStatus(app, done, 'review', 20_000);
    assert.equal(
      fs.readFileSync(path.join(ws.path, `T-${done}.txt`), 'utf8'),
      `work of T-${done}\n`,
    );
    assert.equal((await getWorkspace(app.store.db, done))?.removed_at, null);
  } finally {
    await board.close();
  }
});

test('scheduled gc: run by the engine when due, its last run kept in the database across restarts', {
  timeout: 90_000,
}, async () => {
  const board = await openBoard(createRepo(), wsConfig(SCRIPT));
  try {
    const app = board.app;
    const first = await taskDoing(board, 'ok', 'First');
    await waitForStatus(app, first, 'review', 20_000);
    await moveTask(app, first, 'done');
    await age(board, first, 3);
    const firstRun = (await runsOf(app, first))[0]?.id ?? '';
    await board.stopEngine();

    app.config.board.gc = { older_than: DAY, keep_failed: false, every: 3_600_000 };
    const started = Date.now();
    await board.startEngine();
    const row = await waitFor(
      'the scheduled gc to run and record what it did',
      async () => {
        const m = await getMaintenance(app.store.db, 'gc');
        return m?.summary ? m : undefined;
      },
      10_000,
    );
    assert.equal(fs.existsSync(runDir(app.paths, firstRun)), false);
    assert.ok(row && row.lastRunAt >= started);
    assert.match(row.summary ?? '', new RegExp(`worktree:T-${first}`));

    // A restart within the period does not run it again.
    const second = await taskDoing(board, 'ok', 'Second');
    await waitForStatus(app, second, 'review', 20_000);
    await moveTask(app, second, 'done');
    await age(board, second, 3);
    const secondRun = (await runsOf(app, second))[0]?.id ?? '';
    await board.stopEngine();
    await board.startEngine();
    await sleep(1500);
    assert.ok(fs.existsSync(runDir(app.paths, secondRun)));
    assert.equal((await getMaintenance(app.store.db, 'gc'))?.lastRunAt, row.lastRunAt);

    // Once the period has passed (the row says so), the next start runs it.
    await board.stopEngine();
    await app.store.db
      .updateTable('maintenance')
      .set({ last_run_at: row.lastRunAt - 3_600_000 })
      .execute();
    await board.startEngine();
    await waitFor(
      'the next scheduled gc',
      () => !fs.existsSync(runDir(app.paths, secondRun)),
      10_000,
    );
  } finally {
    await board.close();
  }
});
