/** The pure workspace decisions: branch names from titles, and what gc may remove. */

import assert from 'node:assert/strict';
import test from 'node:test';
import type { RunState } from '../../src/domain/run.js';
import type { TaskStatus } from '../../src/domain/task.js';
import {
  type GcRun,
  type GcTask,
  planGc,
  slugify,
  taskBranch,
} from '../../src/domain/workspace.js';

test('slugify: lower-case ASCII words, at most 40 characters, never empty', () => {
  assert.equal(slugify('Fix the login bug'), 'fix-the-login-bug');
  assert.equal(slugify('  Ünïcödé — crème brûlée!! '), 'unicode-creme-brulee');
  assert.equal(slugify('../../etc/passwd; rm -rf ~'), 'etc-passwd-rm-rf');
  assert.equal(slugify('日本語'), 'task');
  assert.equal(slugify(''), 'task');
  const long = slugify(
    'a very long title that goes on and on well past any sensible branch length',
  );
  assert.ok(long.length <= 40 && !long.endsWith('-'), long);
  assert.equal(slugify('x'.repeat(100)), 'x'.repeat(40));
  assert.equal(taskBranch(42, 'Add OAuth'), 'agentboard/T-42-add-oauth');
});

const DAY = 86_400_000;
const now = 100 * DAY;
const task = (id: number, status: TaskStatus, daysAgo: number, hasWorktree = true): GcTask => ({
  id,
  status,
  lastActivityAt: now - daysAgo * DAY,
  hasWorktree,
});
const run = (id: string, taskId: number, state: RunState, hasDir = true): GcRun => ({
  id,
  taskId,
  state,
  hasDir,
});

test('planGc: finished tasks past retention only; active runs protect their whole task', () => {
  const tasks = [
    task(1, 'done', 10),
    task(2, 'done', 1), // too recent
    task(3, 'blocked', 10),
    task(4, 'review', 10), // not finished
    task(5, 'cancelled', 10, false),
    task(6, 'done', 10), // finished, but a run was started again
    task(7, 'in_progress', 10),
  ];
  const runs = [
    run('r1a', 1, 'failed'),
    run('r1b', 1, 'succeeded'),
    run('r1c', 1, 'succeeded', false), // already gone
    run('r2', 2, 'succeeded'),
    run('r3', 3, 'failed'),
    run('r4', 4, 'succeeded'),
    run('r5', 5, 'cancelled'),
    run('r6a', 6, 'succeeded'),
    run('r6b', 6, 'queued'),
    run('r7', 7, 'running'),
  ];
  assert.deepEqual(planGc(tasks, runs, { now, olderThanMs: 7 * DAY, keepFailed: false }), {
    runDirs: ['r1a', 'r1b', 'r3', 'r5'],
    worktrees: [1, 3],
  });
  assert.deepEqual(planGc(tasks, runs, { now, olderThanMs: 7 * DAY, keepFailed: true }), {
    runDirs: ['r1b', 'r5'],
    worktrees: [1],
  });
  // The boundary: exactly at the cutoff counts as past it.
  assert.deepEqual(
    planGc([task(1, 'done', 7)], [run('r', 1, 'lost')], {
      now,
      olderThanMs: 7 * DAY,
      keepFailed: false,
    }),
    {
      runDirs: ['r'],
      worktrees: [1],
    },
  );
  assert.deepEqual(planGc(tasks, runs, { now, olderThanMs: 1000 * DAY, keepFailed: false }), {
    runDirs: [],
    worktrees: [],
  });
});
