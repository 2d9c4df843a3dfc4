import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { ManualClock } from '../support/manual-clock.js';
import {
  allRuns,
  eventsOf,
  runDirOf,
  runsOf,
  startBoard,
  taskNo,
  waitForStatus,
} from './harness.js';

const MISSING = 'agentboard-test-no-such-cli';

describe('missing agent binary', () => {
  test('fails fast without spawning, is not retried, and blocks the card with an install hint', async (t) => {
    const clock = new ManualClock(Date.now());
    const b = await startBoard(
      {
        agents: { ghost: { kind: 'command', command: MISSING } },
        // Retries would be quick and plentiful if the failure were retried.
        defaults: { max_attempts: 5, backoff: { base: '50ms', factor: 1, jitter: 0 } },
      },
      { clock },
    );
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Needs a CLI', agent: 'ghost' }));
    const card = await waitForStatus(b.app, id, 'blocked', 15_000);
    // No retries happened before it (5 attempts would be allowed): see the run count below.

    const message = `agent CLI \`${MISSING}\` is not installed: install it or set agents.ghost.command`;
    assert.equal(card.status_reason, message);
    // Many backoff periods (each timer's pass awaited): a retry would have run by now.
    await clock.advanceAsync(20 * 50);
    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 1, 'exactly one run');
    assert.equal((await allRuns(b.app)).length, 1);
    const [r] = runs;
    assert.ok(r);
    assert.equal(r.state, 'failed');
    assert.equal(r.error_summary, message);
    // Never spawned: no process, no start, no run directory, no run.started event.
    assert.equal(r.pid, null);
    assert.equal(r.started_at, null);
    assert.equal(fs.existsSync(runDirOf(b.app, r.id)), false);
    assert.equal((await eventsOf(b.app, 'run.started')).length, 0);
  });
});
