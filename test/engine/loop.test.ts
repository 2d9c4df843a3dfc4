import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import type { RunRow } from '../../src/store/runs.js';
import { ManualClock } from '../support/manual-clock.js';
import {
  driveUntil,
  readRunFile,
  runsOf,
  shAgent,
  startBoard,
  task,
  taskNo,
  waitForStatus,
} from './harness.js';

/** Counts its iterations in ./count (in its cwd) and prints where it ran. */
const COUNTER = 'n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; pwd';

function assertChain(runs: RunRow[]): void {
  for (const [i, r] of runs.entries()) {
    assert.equal(r.iteration, i + 1, 'iterations count up from 1');
    assert.equal(r.attempt, 1, 'a loop iteration is not a retry');
    assert.equal(r.trigger, i === 0 ? 'autostart' : 'loop');
    assert.equal(r.previous_run_id, i === 0 ? null : runs[i - 1]?.id);
    assert.equal(r.state, 'succeeded');
  }
}

describe('loop mode', () => {
  test('re-runs until the DONE marker exists in the workspace (board.workdir)', async (t) => {
    // The loop's delay passes only as the test moves this clock.
    const clock = new ManualClock(Date.now());
    const b = await startBoard(
      (root) => {
        fs.mkdirSync(path.join(root, 'ws'));
        return {
          agents: { ralph: shAgent(`${COUNTER}; if [ "$n" -ge 3 ]; then touch DONE; fi`) },
          board: { workdir: 'ws' },
        };
      },
      { clock },
    );
    t.after(() => b.close());
    const ws = path.join(b.root, 'ws');
    assert.equal(b.app.workdir, ws, 'board.workdir resolves against the parent of the home');
    const id = taskNo(
      await addTask(b.app, {
        title: 'Ralph',
        agent: 'ralph',
        loop: { enabled: true, maxIterations: 6, delayMs: 150 },
      }),
    );
    await driveUntil(b.app, clock, 'the card to reach Review', async () => {
      return (await task(b.app, id)).status === 'review';
    });
    // Many loop delays later: no fourth iteration.
    await clock.advanceAsync(20 * 150);
    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 3, 'stopped at the iteration that wrote DONE');
    assertChain(runs);
    for (const [i, r] of runs.entries()) {
      assert.equal(readRunFile(b.app, r.id, 'stdout.log'), `${fs.realpathSync(ws)}\n`);
      if (i === 0) continue;
      assert.equal(r.run_at - r.created_at, 150, 'the loop delay');
      assert.ok(r.started_at !== null && r.started_at >= r.run_at, 'not started before its delay');
    }
    assert.ok(fs.existsSync(path.join(ws, 'DONE')));
    assert.equal(fs.readFileSync(path.join(ws, 'count'), 'utf8'), '3\n');
    assert.equal(fs.existsSync(path.join(b.root, 'DONE')), false, 'not in the home parent');
  });

  test('max_iterations reached without DONE: Blocked (cwd defaults to the parent of AGENTBOARD_HOME)', async (t) => {
    const b = await startBoard({ agents: { ralph: shAgent(COUNTER) } });
    t.after(() => b.close());
    assert.equal(b.app.workdir, b.root);
    const id = taskNo(
      await addTask(b.app, {
        title: 'Endless',
        agent: 'ralph',
        loop: { enabled: true, maxIterations: 3 },
      }),
    );
    const card = await waitForStatus(b.app, id, 'blocked', 5000);
    assert.equal(card.status_reason, 'loop stopped after 3 iterations: DONE marker absent');
    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 3);
    assertChain(runs);
    assert.equal(fs.readFileSync(path.join(b.root, 'count'), 'utf8'), '3\n');
    assert.equal(
      readRunFile(b.app, runs[0]?.id ?? '', 'stdout.log'),
      `${fs.realpathSync(b.root)}\n`,
    );
  });

  test('a loop with a verify command stops at the iteration where verify first passes', async (t) => {
    const clock = new ManualClock(Date.now());
    const b = await startBoard({ agents: { ralph: shAgent(COUNTER) } }, { clock });
    t.after(() => b.close());
    const id = taskNo(
      await addTask(b.app, {
        title: 'Until green',
        agent: 'ralph',
        loop: { enabled: true, maxIterations: 6 },
        verifyCommand: 'n=$(cat count); echo "iteration $n"; test "$n" -ge 2',
      }),
    );
    // done_when_verified (the default): a verified success goes to Done.
    await waitForStatus(b.app, id, 'done', 5000);
    // Time passes (monitor and reconciler passes included): no further iteration.
    await clock.advanceAsync(5000);
    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 2);
    assertChain(runs);
    assert.deepEqual(
      runs.map((r) => [r.verify_exit_code, r.verify_output]),
      [
        [1, 'iteration 1\n'],
        [0, 'iteration 2\n'],
      ],
    );
  });

  test('a loop whose verify never passes ends Blocked after its iterations, quoting the last verify output, never retried', async (t) => {
    const b = await startBoard({
      agents: { ralph: shAgent(COUNTER) },
      defaults: { max_attempts: 3 },
    });
    t.after(() => b.close());
    const id = taskNo(
      await addTask(b.app, {
        title: 'Never green',
        agent: 'ralph',
        loop: { enabled: true, maxIterations: 2 },
        verifyCommand: 'echo "3 tests failed (iteration $(cat count))"; exit 1',
      }),
    );
    const card = await waitForStatus(b.app, id, 'blocked', 5000);
    assert.equal(
      card.status_reason,
      'loop stopped after 2 iterations: DONE marker absent, verify exited 1\nlast verify output:\n3 tests failed (iteration 2)',
    );
    const runs = await runsOf(b.app, id);
    assert.deepEqual(
      runs.map((r) => [r.state, r.iteration, r.attempt]),
      [
        ['succeeded', 1, 1],
        ['succeeded', 2, 1],
      ],
    );
  });
});
