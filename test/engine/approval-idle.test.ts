/**
 * A run waiting on a person is not idle: idle_timeout spares a run with a
 * pending approval (and counts a decision as activity), while its
 * wall-clock timeout still applies. Time is the board's ManualClock; the
 * agents are real processes. The transcript shows the request and the decision.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allowApproval, getApprovalView, requestApproval } from '../../src/app/approvals.js';
import { addTask } from '../../src/app/tasks.js';
import { readRunEvents } from '../../src/store/run-events.js';
import { getRun } from '../../src/store/runs.js';
import { ManualClock } from '../support/manual-clock.js';
import { shAgent, startBoard, taskNo, waitFor, waitForRun } from './harness.js';

const IDLE = 2000;
/** The monitors' period in the harness. */
const TICK = 100;

const ended = (s: string | undefined) => s !== undefined && !['claimed', 'running'].includes(s);

describe('approvals and the run monitors', () => {
  test('idle_timeout kills a silent run, but not one waiting on a person; the decision restarts its idle clock', async (t) => {
    const clock = new ManualClock(Date.now());
    const b = await startBoard(
      {
        agents: {
          mute: shAgent('echo hello; exec sleep 60', {
            idle_timeout: `${IDLE}ms`,
            timeout: '1h',
            max_concurrency: 2,
          }),
        },
        defaults: { max_attempts: 1 },
      },
      { clock },
    );
    t.after(() => b.close());
    const waiting = taskNo(await addTask(b.app, { title: 'Asks first', agent: 'mute' }));
    const silent = taskNo(await addTask(b.app, { title: 'Just silent', agent: 'mute' }));
    const w = await waitForRun(b.app, waiting, 'running');
    const s = await waitForRun(b.app, silent, 'running');
    const a = await requestApproval(b.app, w.id, {
      tool: 'Bash',
      input: { command: 'npm publish' },
      toolUseId: 'toolu_pub',
    });
    assert.equal(a.state, 'pending');

    await clock.advanceAsync(IDLE + 5 * TICK);
    const killed = await waitFor('the silent run to be stopped', async () => {
      const r = await getRun(b.app.store.db, s.id);
      return ended(r?.state) ? r : undefined;
    });
    assert.equal(killed?.stop_action, 'idle');
    assert.match(killed?.error_summary ?? '', /no output for 2s \(idle_timeout\)/);
    const alive = await getRun(b.app.store.db, w.id);
    assert.equal(alive?.state, 'running', 'the run waiting on a person is not idle');
    assert.equal(alive?.stop_requested_at, null);

    // Far past idle_timeout while still pending: spared on every pass.
    await clock.advanceAsync(3 * IDLE);
    assert.equal((await getRun(b.app.store.db, w.id))?.state, 'running');
    assert.equal((await getRun(b.app.store.db, w.id))?.stop_requested_at, null);

    // Decided: idle counts again from the decision, not from the last output.
    await allowApproval(b.app, a.id, { by: 'ann' });
    await clock.advanceAsync(IDLE / 2);
    assert.equal((await getRun(b.app.store.db, w.id))?.stop_requested_at, null, 'just answered');
    await clock.advanceAsync(IDLE + 5 * TICK);
    const idled = await waitFor('the answered run to go idle', async () => {
      const r = await getRun(b.app.store.db, w.id);
      return ended(r?.state) ? r : undefined;
    });
    assert.equal(idled?.stop_action, 'idle');

    // Its transcript shows the request and the decision, once each.
    const lines = (await readRunEvents(b.app.store.db, w.id, { afterSeq: 0, limit: 100 }))
      .map((e) => e.event)
      .filter((e) => e.type === 'approval');
    assert.deepEqual(
      lines.map((e) => e.type === 'approval' && [e.approvalId, e.toolUseId, e.state, e.by]),
      [
        [a.id, 'toolu_pub', 'pending', null],
        [a.id, 'toolu_pub', 'allowed', 'ann'],
      ],
    );
  });

  test('the wall-clock timeout still applies to a run waiting on a person; its request is cancelled', async (t) => {
    const clock = new ManualClock(Date.now());
    const b = await startBoard(
      {
        agents: {
          mute: shAgent('echo hello; exec sleep 60', { idle_timeout: `${IDLE}ms`, timeout: '5s' }),
        },
        defaults: { max_attempts: 1 },
      },
      { clock },
    );
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Waits too long', agent: 'mute' }));
    const run = await waitForRun(b.app, id, 'running');
    const a = await requestApproval(b.app, run.id, { tool: 'Bash', input: { command: 'ls' } });
    await clock.advanceAsync(5000 + 5 * TICK);
    const r = await waitFor('the run to time out', async () => {
      const x = await getRun(b.app.store.db, run.id);
      return ended(x?.state) ? x : undefined;
    });
    assert.equal(r?.state, 'timed_out');
    const v = await getApprovalView(b.app, a.id);
    assert.equal(v.state, 'cancelled');
    assert.equal(v.decidedBy, 'run-ended');
  });
});
