/** A parent whose own run succeeded waits in Review for its subtasks, then is Done by itself. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { finishRun } from '../../src/app/finish-run.js';
import { showTask } from '../../src/app/read-task.js';
import { startRun } from '../../src/app/runs.js';
import { addTask, cancelTask, moveTask } from '../../src/app/tasks.js';
import { stepRun } from '../../src/domain/run.js';
import { updateRun } from '../../src/store/runs.js';
import { sqliteBoard, testConfig } from '../support/board.js';

const SUCCESS = {
  state: 'succeeded' as const,
  exitCode: 0,
  exitSignal: null,
  reason: 'exit 0',
  retryable: false,
  stderrTail: '',
  complete: false,
  verified: false,
};

async function parentWithTwoChildren() {
  const app = await sqliteBoard().open({
    config: testConfig({ board: { autostart: false, on_success: 'done' } }),
  });
  const parent = Number((await addTask(app, { title: 'parent', agent: 'bot' })).id.slice(2));
  const kids = [];
  for (const title of ['child a', 'child b']) {
    kids.push(Number((await addTask(app, { title, parent, status: 'backlog' })).id.slice(2)));
  }
  const run = await startRun(app, parent);
  // A run ends only once claimed and started: the steps a worker takes, through the run machine.
  await app.store.tx(async (tx) => {
    await updateRun(tx, run.id, { state: stepRun('queued', { type: 'claim' }) });
    await updateRun(tx, run.id, { state: stepRun('claimed', { type: 'start' }) });
  });
  assert.equal(await finishRun(app, run.id, null, SUCCESS), true);
  const waiting = await showTask(app, parent);
  assert.equal(waiting.status, 'review');
  assert.equal(waiting.statusReason, 'waiting for subtasks: T-2 (backlog), T-3 (backlog)');
  return { app, parent, kids: kids as [number, number] };
}

test('the last subtask done moves its waiting parent to Done', async (t) => {
  const { app, parent, kids } = await parentWithTwoChildren();
  t.after(() => app.store.close());
  await moveTask(app, kids[0], 'done');
  assert.equal((await showTask(app, parent)).status, 'review', 'one subtask is still open');
  await moveTask(app, kids[1], 'done');
  assert.equal((await showTask(app, parent)).status, 'done');
});

test('the last open subtask cancelled also lets its waiting parent finish', async (t) => {
  const { app, parent, kids } = await parentWithTwoChildren();
  t.after(() => app.store.close());
  await moveTask(app, kids[0], 'done');
  await cancelTask(app, kids[1]);
  const p = await showTask(app, parent);
  assert.equal(p.status, 'done');
  assert.equal(p.statusReason, null);
});
