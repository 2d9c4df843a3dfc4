import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { ManualClock } from '../support/manual-clock.js';
import {
  allRuns,
  driveUntil,
  eventsOf,
  runDirOf,
  runsOf,
  shAgent,
  startBoard,
  task,
  taskNo,
  waitFor,
  waitForStatus,
} from './harness.js';

describe('retries', () => {
  test('exit 1 is retried with exponential backoff up to max_attempts, then the card is Blocked', async (t) => {
    const base = 300;
    const factor = 2;
    const jitter = 0.5;
    // Backoffs pass only as the test moves this clock: each retry is started
    // by its timer at its run_at, and not a millisecond before.
    const clock = new ManualClock(Date.now());
    const b = await startBoard(
      {
        agents: {
          flaky: shAgent('echo "working"; echo "boom in $AGENTBOARD_RUN_ID" >&2; exit 1'),
        },
        defaults: {
          max_attempts: 3,
          backoff: { base: `${base}ms`, factor, max: '10s', jitter },
        },
      },
      { clock },
    );
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Flaky', agent: 'flaky' }));
    const retry = await waitFor('the first retry to be queued', async () =>
      (await runsOf(b.app, id)).find((r) => r.attempt === 2),
    );
    await clock.advanceAsync(retry.run_at - clock.now() - 1);
    assert.equal((await runsOf(b.app, id))[1]?.state, 'queued', 'not started before its run_at');
    const card = await driveUntil(b.app, clock, 'the card to be Blocked', async () => {
      const c = await task(b.app, id);
      return c.status === 'blocked' ? c : undefined;
    });

    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 3, 'max_attempts runs, no more');
    assert.deepEqual(
      runs.map((r) => [r.attempt, r.trigger, r.state, r.exit_code]),
      [
        [1, 'autostart', 'failed', 1],
        [2, 'retry', 'failed', 1],
        [3, 'retry', 'failed', 1],
      ],
    );
    const events = [
      ...(await eventsOf(b.app, 'run.finished')),
      ...(await eventsOf(b.app, 'run.queued')),
    ];
    for (const [i, r] of runs.entries()) {
      // Classified exit, then the tail of that run's own stderr.
      assert.equal(r.error_summary, `exit 1\nboom in ${r.id}`);
      if (i === 0) {
        assert.equal(r.previous_run_id, null);
        continue;
      }
      const prev = runs[i - 1];
      assert.ok(prev?.ended_at && r.started_at);
      assert.equal(r.previous_run_id, prev.id, 'each retry links the run it retries');
      // Backoff before attempt n: base * factor^(n-2), the top `jitter` share randomised.
      const raw = base * factor ** (r.attempt - 2);
      const delay = r.run_at - r.created_at;
      assert.ok(
        delay >= raw * (1 - jitter) && delay <= raw,
        `attempt ${r.attempt}: delay ${delay} ms outside [${raw * (1 - jitter)}, ${raw}]`,
      );
      // ended_at is the agent's own exit time (real), created_at the board clock's: compare the log.
      const finished = events.find((e) => e.type === 'run.finished' && e.runId === prev.id);
      const queued = events.find((e) => e.type === 'run.queued' && e.runId === r.id);
      assert.ok(finished && queued && queued.id >= finished.id, 'queued once the previous ended');
      // The timer wakes the dispatcher when a retry falls due (no polling period to wait out).
      assert.equal(r.started_at, r.run_at, `attempt ${r.attempt} started when it was due`);
    }

    const last = runs[2];
    assert.ok(last);
    // The card says why it gave up: the classified exit and the stderr tail.
    assert.equal(card.status_reason, `retries exhausted (3 of 3): exit 1\nboom in ${last.id}`);
    // Far past any backoff (max 10 s), through monitor and reconciler passes.
    await clock.advanceAsync(30_000);
    assert.equal((await allRuns(b.app)).length, 3, 'nothing is queued after giving up');
  });

  test('stderr in the error summary is only the tail', async (t) => {
    const b = await startBoard({
      agents: {
        noisy: shAgent(
          'i=0; while [ $i -lt 400 ]; do echo "noise line $i"; i=$((i+1)); done >&2; echo "final words" >&2; exit 2',
        ),
      },
      defaults: { max_attempts: 1 },
    });
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Noisy', agent: 'noisy' }));
    const card = await waitForStatus(b.app, id, 'blocked');
    const [r] = await runsOf(b.app, id);
    assert.ok(r?.error_summary);
    assert.ok(r.error_summary.startsWith('exit 2\n'), r.error_summary.slice(0, 40));
    assert.ok(r.error_summary.endsWith('final words'));
    assert.ok(!r.error_summary.includes('noise line 0\n'), 'the head of stderr is cut');
    assert.ok(r.error_summary.length < 2100, `summary is ${r.error_summary.length} chars`);
    assert.ok(fs.statSync(`${runDirOf(b.app, r.id)}/stderr.log`).size > 4000);
    assert.match(card.status_reason ?? '', /^retries exhausted \(1 of 1\): exit 2\n/);
    assert.ok(card.status_reason?.endsWith('final words'), 'the card carries the stderr tail');
  });
});
