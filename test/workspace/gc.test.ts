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
import { type App, openApp } from '../../src/app/context.js';
import type { GcItem, GcReport } from '../../src/app/gc.js';
import { startRun } from '../../src/app/runs.js';
import { addTask, moveTask } from '../../src/app/tasks.js';
import { runDir } from '../../src/config/home.js';
import type { EngineLogger } from '../../src/engine/context.js';
import { type Engine, startEngine } from '../../src/engine/engine.js';
import { gcCheckInterval } from '../../src/engine/gc-schedule.js';
import { getMaintenance, getWorkspace } from '../../src/store/workspaces.js';
import { runsOf, waitForRun, waitForStatus } from '../engine/harness.js';
import { ManualClock } from '../support/manual-clock.js';
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
async function age(app: App, taskId: number, days: number) {
  const t = app.clock.now() - days * DAY;
  await app.store.db.updateTable('tasks').set({ updated_at: t }).where('id', '=', taskId).execute();
  await app.store.db
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
    for (const id of [done, blocked, review, active]) await age(app, id, 10);

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

/**
 * A board like openBoard's, on a manual clock. Its monitors and reconciler
 * look once a minute, so an hour of board time costs a few hundred passes.
 */
async function clockBoard(repo: string, config: Record<string, unknown>, clock: ManualClock) {
  const home = path.join(repo, '.agentboard');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config, null, 2));
  const app = await openApp({ env: { AGENTBOARD_HOME: home }, cwd: repo, clock });
  const quiet: EngineLogger = { info: () => {}, warn: () => {} };
  let engine: Engine | null = null;
  return {
    app,
    start: async () => {
      engine = await startEngine(app, {
        log: quiet,
        monitorIntervalMs: 60_000,
        reconcileIntervalMs: 60_000,
      });
    },
    stop: async () => {
      await engine?.stop();
      engine = null;
    },
  };
}

test('scheduled gc: run by the engine when due, its last run kept in the database across restarts', {
  timeout: 90_000,
}, async () => {
  const HOUR = 3_600_000;
  const clock = new ManualClock(Date.now());
  const board = await clockBoard(createRepo(), wsConfig(SCRIPT), clock);
  const { app } = board;
  /** A task whose agent has committed and ended, moved to Done, finished `days` ago. */
  const doneTask = async (title: string, days: number) => {
    const id = Number((await addTask(app, { title, body: 'ok', agent: 'bot' })).id.slice(2));
    await waitForStatus(app, id, 'review', 20_000);
    await moveTask(app, id, 'done');
    await age(app, id, days);
    return { id, run: (await runsOf(app, id))[0]?.id ?? '' };
  };
  try {
    await board.start();
    const first = await doneTask('First', 3);
    await board.stop();

    app.config.board.gc = { older_than: DAY, keep_failed: false, every: HOUR };
    await board.start();
    // The first look is at once, on the clock: advancing 0 ms runs (and awaits) it.
    await clock.advanceAsync(0);
    const row = await getMaintenance(app.store.db, 'gc');
    assert.ok(row?.summary, 'the scheduled gc ran and recorded what it did');
    assert.equal(fs.existsSync(runDir(app.paths, first.run)), false);
    assert.equal(row.lastRunAt, clock.now());
    assert.match(row.summary ?? '', new RegExp(`worktree:T-${first.id}`));

    // A restart within the period does not run it again, nor does any check
    // until the period has passed (one every minute, each awaited).
    const { run: secondRun } = await doneTask('Second', 3);
    await board.stop();
    await board.start();
    await clock.advanceAsync(row.lastRunAt + HOUR - 1 - clock.now());
    assert.ok(fs.existsSync(runDir(app.paths, secondRun)), 'not removed within the period');
    assert.equal((await getMaintenance(app.store.db, 'gc'))?.lastRunAt, row.lastRunAt);

    // The first check past the period runs it.
    await clock.advanceAsync(gcCheckInterval(HOUR));
    assert.equal(fs.existsSync(runDir(app.paths, secondRun)), false, 'removed once due');
    assert.ok(((await getMaintenance(app.store.db, 'gc'))?.lastRunAt ?? 0) >= row.lastRunAt + HOUR);
  } finally {
    await board.stop();
    await app.store.close();
  }
});
