import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { systemClock } from '../../src/domain/clock.js';
import { ManualClock } from '../support/manual-clock.js';
import {
  readRunFile,
  runDirOf,
  runsOf,
  shAgent,
  startBoard,
  task,
  taskNo,
  waitFor,
  waitForRun,
  waitForStatus,
} from './harness.js';

describe('dispatch and the card after success', () => {
  test('a Todo card with an agent starts at once, is In Progress while it runs, then goes to Review', async (t) => {
    const b = await startBoard({
      agents: { bot: shAgent('cat; echo "task=$AGENTBOARD_TASK_ID"; sleep 0.4') },
    });
    t.after(() => b.close());
    const view = await addTask(b.app, { title: 'Say hello', body: 'Please greet.', agent: 'bot' });
    const id = taskNo(view);
    // Autostart enqueues in the same transaction as the insert.
    assert.equal(view.status, 'in_progress');
    const [queued, ...more] = await runsOf(b.app, id);
    assert.ok(queued, 'a run was queued with the task');
    assert.equal(more.length, 0);
    assert.equal(queued.trigger, 'autostart');
    assert.equal(queued.agent, 'bot');

    // How fast is measured in bench/ (dispatch latency), not here.
    const running = await waitForRun(b.app, id, 'running', 15_000);
    assert.ok(running.pid !== null && running.pgid !== null, 'the process identity is recorded');
    assert.equal((await task(b.app, id)).status, 'in_progress', 'In Progress while running');

    const done = await waitForStatus(b.app, id, 'review');
    assert.equal(done.status_reason, null);
    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 1, 'exactly one run');
    const [r] = runs;
    assert.ok(r);
    assert.equal(r.state, 'succeeded');
    assert.equal(r.exit_code, 0);
    assert.equal(r.error_summary, null);
    assert.ok(r.ended_at !== null && r.started_at !== null);
    assert.ok(r.ended_at - r.started_at >= 350, 'ended only after the agent did');
    // The prompt arrived on stdin; the task id in the environment.
    const out = readRunFile(b.app, r.id, 'stdout.log');
    assert.match(out, /^# T-\d+: Say hello\n\nPlease greet\.\n/);
    assert.match(out, new RegExp(`task=${view.id}\\n`));
  });

  test('a task added the moment the engine has started is dispatched (no lost wake-up)', async (t) => {
    // startEngine returns with its first dispatch pass still in flight. The
    // commit below wakes the dispatcher while that pass is finishing; the
    // wake-up must not be dropped, or the run waits for some unrelated commit.
    // On a clock that stands still, no timer can make up for a lost one.
    const b = await startBoard(
      { agents: { bot: shAgent('exit 0') } },
      { clock: new ManualClock() },
    );
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Right away', agent: 'bot' }));
    await waitForStatus(b.app, id, 'review', 15_000);
  });

  test('a delayed run starts when due even if its timer fires a little early by the board clock', async (t) => {
    // Timers run on the monotonic clock, run_at on the wall clock; the two
    // drift (timers were seen firing 1 ms "early" by Date.now()). A board
    // clock 3% slow makes every wake-up early. When the claim pass finds the
    // run not yet due and the clock passes run_at before the next due time
    // is looked up, no timer may be left unarmed: every iteration must start.
    const t0 = Date.now();
    const slow = { ...systemClock, now: () => t0 + Math.floor((Date.now() - t0) * 0.97) };
    const b = await startBoard({ agents: { bot: shAgent('true') } }, { clock: slow });
    t.after(() => b.close());
    const id = taskNo(
      await addTask(b.app, {
        title: 'Delayed loop',
        agent: 'bot',
        loop: { enabled: true, maxIterations: 8, delayMs: 40 },
      }),
    );
    await waitForStatus(b.app, id, 'blocked', 6000);
    assert.equal((await runsOf(b.app, id)).length, 8);
  });

  test('board.on_success: done sends a successful card to Done', async (t) => {
    const b = await startBoard({
      agents: { bot: shAgent('exit 0') },
      board: { on_success: 'done' },
    });
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Quick', agent: 'bot' }));
    await waitForStatus(b.app, id, 'done');
    const [r] = await runsOf(b.app, id);
    assert.equal(r?.state, 'succeeded');
  });

  test('a passing verify command with done_when_verified sends the card to Done', async (t) => {
    const b = await startBoard({ agents: { bot: shAgent('echo working') } });
    t.after(() => b.close());
    const id = taskNo(
      await addTask(b.app, {
        title: 'Verified',
        agent: 'bot',
        verifyCommand: 'echo "all 12 tests passed"',
      }),
    );
    await waitForStatus(b.app, id, 'done');
    const [r] = await runsOf(b.app, id);
    assert.ok(r);
    assert.equal(r.verify_exit_code, 0);
    assert.equal(r.verify_output, 'all 12 tests passed\n');
  });

  test('with done_when_verified off, a passing verify still goes to the success column (Review)', async (t) => {
    const b = await startBoard({
      agents: { bot: shAgent('true') },
      board: { done_when_verified: false },
    });
    t.after(() => b.close());
    const id = taskNo(
      await addTask(b.app, { title: 'Policy', agent: 'bot', verifyCommand: 'true' }),
    );
    await waitForStatus(b.app, id, 'review');
    assert.equal((await runsOf(b.app, id))[0]?.verify_exit_code, 0);
  });

  test('a failing verify command sends the card to Review with the verify output stored', async (t) => {
    const b = await startBoard({ agents: { bot: shAgent('echo working') } });
    t.after(() => b.close());
    const id = taskNo(
      await addTask(b.app, {
        title: 'Unverified',
        agent: 'bot',
        verifyCommand: 'echo "running tests"; echo "3 tests failed" >&2; exit 3',
      }),
    );
    const card = await waitForStatus(b.app, id, 'review');
    assert.equal(card.status, 'review');
    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 1, 'a failed verification is not retried');
    const [r] = runs;
    assert.ok(r);
    assert.equal(r.state, 'succeeded', 'the agent itself succeeded');
    assert.equal(r.verify_exit_code, 3);
    assert.match(r.verify_output ?? '', /running tests\n/);
    assert.match(r.verify_output ?? '', /3 tests failed\n/);
    const logFile = path.join(runDirOf(b.app, r.id), 'verify.log');
    const log = await waitFor('verify.log to be flushed', () => {
      const s = fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '';
      return s.includes('3 tests failed') ? s : undefined;
    });
    assert.match(log, /running tests\n/);
  });
});
