import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addTask, moveTask } from '../../src/app/tasks.js';
import { ManualClock } from '../support/manual-clock.js';
import { runsOf, shAgent, startBoard, task, taskNo, waitForRun, waitForStatus } from './harness.js';

// Event-driven, not polled: far below any polling period. (The exact latency is a bench figure.)
const PROMPT_MS = 2000;

describe('dependencies', () => {
  test('a dependent task starts only once its dependency finishes in Done, and promptly', async (t) => {
    const b = await startBoard({
      agents: { bot: shAgent('sleep 0.4') },
      board: { on_success: 'done' },
    });
    t.after(() => b.close());
    const first = taskNo(await addTask(b.app, { title: 'First', agent: 'bot' }));
    const second = taskNo(
      await addTask(b.app, { title: 'Second', agent: 'bot', dependsOn: [first] }),
    );
    assert.equal((await task(b.app, second)).status, 'todo');
    assert.equal((await runsOf(b.app, second)).length, 0, 'not queued while First is open');

    const next = await waitForRun(b.app, second, 'running', 15_000);
    const [done] = await runsOf(b.app, first);
    assert.ok(done?.ended_at && next.started_at);
    assert.equal((await task(b.app, first)).status, 'done');
    assert.ok(next.created_at >= done.ended_at, 'queued only after First ended');
    const gap = next.started_at - done.ended_at;
    assert.ok(gap < PROMPT_MS, `Second started ${gap} ms after First ended`);
  });

  test('a dependency finishing in Review holds the dependent back until it is moved to Done', async (t) => {
    const clock = new ManualClock(Date.now());
    const b = await startBoard({ agents: { bot: shAgent('exit 0') } }, { clock });
    t.after(() => b.close());
    const first = taskNo(await addTask(b.app, { title: 'First', agent: 'bot' }));
    const second = taskNo(
      await addTask(b.app, { title: 'Second', agent: 'bot', dependsOn: [first] }),
    );
    await waitForStatus(b.app, first, 'review');
    // Seconds of monitor and reconciler passes (each awaited): Review is not Done.
    await clock.advanceAsync(5000);
    assert.equal((await runsOf(b.app, second)).length, 0, 'Review is not Done');
    assert.equal((await task(b.app, second)).status, 'todo');

    const moved = clock.now();
    await moveTask(b.app, first, 'done');
    const next = await waitForRun(b.app, second, 'running', 15_000);
    // The clock stood still: the move itself started it, no timer did.
    assert.equal(next.started_at, moved, 'Second started on the move to Done');
    await waitForStatus(b.app, second, 'review');
  });
});
