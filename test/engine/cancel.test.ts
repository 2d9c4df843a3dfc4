import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { stopRun } from '../../src/app/runs.js';
import { addTask, cancelTask } from '../../src/app/tasks.js';
import { isSameProcess, processStartTime } from '../../src/runner/proc.js';
import { ManualClock } from '../support/manual-clock.js';
import {
  allRuns,
  groupAlive,
  readRunFile,
  runsOf,
  shAgent,
  startBoard,
  task,
  taskNo,
  waitFor,
  waitForRun,
  waitForStatus,
} from './harness.js';

describe('stop and cancel', () => {
  test('cancelTask on a running task kills its process group and ends with the card Cancelled', async (t) => {
    const b = await startBoard({
      // A grandchild in the background, the agent itself in the foreground.
      agents: { bot: shAgent('sleep 30 & echo $! > "$AGENTBOARD_RUN_DIR/gc.pid"; exec sleep 30') },
    });
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Doomed', agent: 'bot' }));
    const running = await waitForRun(b.app, id, 'running');
    const gc = await waitFor('the grandchild pid', () => {
      try {
        const pid = Number(readRunFile(b.app, running.id, 'gc.pid').trim());
        const start = pid > 0 ? processStartTime(pid) : null;
        return start === null ? undefined : { pid, start };
      } catch {
        return undefined;
      }
    });
    assert.ok(groupAlive(running.pgid));

    const t0 = Date.now();
    await cancelTask(b.app, id);
    const card = await waitForStatus(b.app, id, 'cancelled', 15_000);
    // stop_grace is 10 s by default: SIGTERM alone must have done it.
    // Well under the 10 s grace: SIGTERM did it, not the SIGKILL that follows the grace.
    assert.ok(Date.now() - t0 < 8000, `cancelled within 8s (took ${Date.now() - t0} ms)`);
    assert.equal(card.status_reason, 'task cancelled by user');
    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 1, 'a cancelled task is not retried');
    const [r] = runs;
    assert.ok(r);
    assert.equal(r.state, 'cancelled');
    assert.equal(r.stop_action, 'cancel');
    assert.match(r.error_summary ?? '', /^task cancelled by user/);
    assert.equal(
      isSameProcess(running.pid ?? 0, running.proc_start_time ?? 0),
      false,
      'agent gone',
    );
    assert.equal(isSameProcess(gc.pid, gc.start), false, 'grandchild gone');
    assert.equal(groupAlive(r.pgid), false, 'process group empty');
  });

  test('stopping a running run (user stop) cancels it and blocks the card', async (t) => {
    const b = await startBoard({ agents: { bot: shAgent('exec sleep 30') } });
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Stop me', agent: 'bot' }));
    const running = await waitForRun(b.app, id, 'running');
    const view = await stopRun(b.app, running.id);
    assert.equal(view.stopReason, 'stopped by user');
    const card = await waitForStatus(b.app, id, 'blocked', 15_000);
    assert.match(card.status_reason ?? '', /^stopped by user/);
    const [r] = await runsOf(b.app, id);
    assert.equal(r?.state, 'cancelled');
    assert.equal(groupAlive(r?.pgid ?? null), false);
  });

  test('stopping or cancelling a queued run ends it at once, and it never starts later', async (t) => {
    const clock = new ManualClock(Date.now());
    const b = await startBoard(
      { agents: { solo: shAgent('exec sleep 30', { max_concurrency: 1 }) } },
      { clock },
    );
    t.after(() => b.close());
    const hog = taskNo(await addTask(b.app, { title: 'Hog', agent: 'solo' }));
    await waitForRun(b.app, hog, 'running');
    const stopped = taskNo(await addTask(b.app, { title: 'Stopped', agent: 'solo' }));
    const cancelled = taskNo(await addTask(b.app, { title: 'Cancelled', agent: 'solo' }));
    const [q1] = await runsOf(b.app, stopped);
    const [q2] = await runsOf(b.app, cancelled);
    assert.equal(q1?.state, 'queued');
    assert.equal(q2?.state, 'queued');

    // Immediately: the call itself ends a queued run, no engine round-trip.
    const view = await stopRun(b.app, q1?.id ?? '');
    assert.equal(view.state, 'cancelled');
    assert.equal((await task(b.app, stopped)).status, 'blocked');
    const cv = await cancelTask(b.app, cancelled);
    assert.equal(cv.status, 'cancelled');
    assert.equal((await runsOf(b.app, cancelled))[0]?.state, 'cancelled');
    assert.equal(q1?.pid, null);

    // Free the agent: the cancelled runs must not be picked up.
    await cancelTask(b.app, hog);
    await waitForStatus(b.app, hog, 'cancelled', 15_000);
    // Its end woke the dispatcher; seconds of passes later, still nothing was picked up.
    await clock.advanceAsync(5000);
    const runs = await allRuns(b.app);
    assert.equal(runs.length, 3, 'no new runs');
    assert.deepEqual(
      runs.map((r) => [r.task_id, r.state, r.started_at === null]),
      [
        [hog, 'cancelled', false],
        [stopped, 'cancelled', true],
        [cancelled, 'cancelled', true],
      ],
    );
  });
});
