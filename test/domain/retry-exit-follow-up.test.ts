import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { classifyExit, errorSummary, formatDuration } from '../../src/domain/exit.js';
import { type FollowUpInput, planFollowUp } from '../../src/domain/follow-up.js';
import { type BackoffPolicy, backoffMs } from '../../src/domain/retry.js';

describe('backoffMs', () => {
  const noJitter: BackoffPolicy = { baseMs: 1000, factor: 2, maxMs: 10_000, jitter: 0 };

  test('exponential from the base, capped at max', () => {
    const r = () => 0.5;
    assert.deepEqual(
      [2, 3, 4, 5, 6, 7, 50, 5000].map((a) => backoffMs(a, noJitter, r)),
      [1000, 2000, 4000, 8000, 10_000, 10_000, 10_000, 10_000],
    );
    // Attempt 1 (or less) is never asked for, but must not shrink below the base.
    assert.equal(backoffMs(1, noJitter, r), 1000);
    assert.equal(backoffMs(0, noJitter, r), 1000);
    assert.equal(backoffMs(4, { ...noJitter, factor: 3 }, r), 9000);
    assert.equal(backoffMs(9, { ...noJitter, factor: 1 }, r), 1000);
  });

  test('equal jitter: 0.5 spreads the delay over [raw/2, raw]', () => {
    const p = { ...noJitter, jitter: 0.5 };
    assert.equal(
      backoffMs(3, p, () => 0),
      1000,
    );
    assert.equal(
      backoffMs(3, p, () => 0.5),
      1500,
    );
    assert.equal(
      backoffMs(3, p, () => 0.999999),
      2000,
    );
    // Full jitter, and out-of-range jitter clamped.
    assert.equal(
      backoffMs(3, { ...noJitter, jitter: 1 }, () => 0),
      0,
    );
    assert.equal(
      backoffMs(3, { ...noJitter, jitter: 7 }, () => 0),
      0,
    );
    assert.equal(
      backoffMs(3, { ...noJitter, jitter: -1 }, () => 0),
      2000,
    );
  });

  test('property: within [raw*(1-jitter), raw], never above max, monotonic in the attempt', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 80 }),
        fc.integer({ min: 1, max: 100_000 }),
        fc.double({ min: 1, max: 10, noNaN: true }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (attempt, baseMs, factor, maxMs, jitter, rnd) => {
          const p = { baseMs, factor, maxMs, jitter };
          const raw = Math.min(maxMs, baseMs * factor ** (attempt - 2));
          const d = backoffMs(attempt, p, () => rnd);
          assert.ok(Number.isInteger(d));
          assert.ok(d >= Math.floor(raw * (1 - jitter)) && d <= Math.ceil(raw), `${d} vs ${raw}`);
          assert.ok(d <= Math.max(maxMs, 0));
          assert.ok(backoffMs(attempt + 1, p, () => rnd) >= d);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe('classifyExit', () => {
  test('a missing agent CLI (ENOENT) is not retryable and says what to do', () => {
    const v = classifyExit({ kind: 'not_installed', command: 'claude', agent: 'claude' });
    assert.deepEqual(v, {
      reason: 'agent CLI `claude` is not installed: install it or set agents.claude.command',
      retryable: false,
    });
  });

  test('exit 127 (command not found from the shim) is not retryable', () => {
    const v = classifyExit({ kind: 'exit', code: 127, signal: null });
    assert.equal(v.retryable, false);
    assert.match(v.reason, /^exit 127: command not found/);
    assert.match(v.reason, /installed/);
  });

  test('137 is killed/OOM and 143 is SIGTERM, both retryable, by code or by signal', () => {
    for (const facts of [
      { kind: 'exit', code: 137, signal: null },
      { kind: 'exit', code: null, signal: 'SIGKILL' },
    ] as const) {
      const v = classifyExit(facts);
      assert.equal(v.retryable, true);
      assert.match(v.reason, /^exit 137: killed \(SIGKILL\): out of memory/);
    }
    for (const facts of [
      { kind: 'exit', code: 143, signal: null },
      { kind: 'exit', code: null, signal: 'SIGTERM' },
    ] as const) {
      assert.deepEqual(classifyExit(facts), {
        reason: 'exit 143: terminated (SIGTERM)',
        retryable: true,
      });
    }
  });

  test('the other verdicts', () => {
    const cases: [Parameters<typeof classifyExit>[0], string, boolean][] = [
      [{ kind: 'exit', code: 0, signal: null }, 'exit 0', false],
      [{ kind: 'exit', code: 1, signal: null }, 'exit 1', true],
      [
        { kind: 'exit', code: 126, signal: null },
        'exit 126: the agent command is not executable',
        false,
      ],
      [{ kind: 'exit', code: null, signal: null }, 'ended without an exit status', true],
      [{ kind: 'exit', code: null, signal: 'SIGUSR1' }, 'killed by SIGUSR1', true],
      [{ kind: 'spawn_error', message: 'EACCES' }, 'could not start the agent: EACCES', false],
      [{ kind: 'timed_out', afterMs: 7_200_000 }, 'timed out after 2h (wall-clock timeout)', true],
      [{ kind: 'idle', afterMs: 900_000 }, 'no output for 15m (idle_timeout): killed', true],
      [{ kind: 'lost', reason: 'pid gone' }, 'lost: pid gone', true],
      [{ kind: 'lease_lost' }, 'lease lost: another worker took the run over', true],
      [{ kind: 'budget', reason: '$5 spent' }, 'budget exceeded: $5 spent', false],
    ];
    for (const [facts, reason, retryable] of cases) {
      assert.deepEqual(classifyExit(facts), { reason, retryable }, JSON.stringify(facts));
    }
  });

  test('errorSummary puts the verdict first, then the stderr tail', () => {
    const v = { reason: 'exit 2', retryable: true };
    assert.equal(errorSummary(v, '  boom\nbang \n'), 'exit 2\nboom\nbang');
    assert.equal(errorSummary(v, ' \n'), 'exit 2');
  });

  test('formatDuration', () => {
    assert.deepEqual(
      [999, 1000, 90_000, 119_000, 120_000, 3_600_000, 7_000_000, 7_200_000].map(formatDuration),
      ['999ms', '1s', '90s', '119s', '2m', '60m', '117m', '2h'],
    );
  });
});

describe('planFollowUp', () => {
  const base: FollowUpInput = {
    outcome: 'failed',
    attempt: 1,
    maxAttempts: 3,
    retryable: true,
    reason: 'exit 1',
    taskCancelled: false,
    loop: { enabled: false, iteration: 1, maxIterations: 3, delayMs: 5000 },
    complete: false,
    verified: false,
    verifyExitCode: null,
    denials: 0,
    successColumn: 'review',
    doneWhenVerified: true,
    backoff: { baseMs: 1000, factor: 2, maxMs: 60_000, jitter: 0 },
  };
  const plan = (over: Partial<FollowUpInput>) => planFollowUp({ ...base, ...over }, () => 0.5);

  test('a retryable failure retries with backoff until max_attempts, then blocks', () => {
    for (const outcome of ['failed', 'timed_out', 'lost'] as const) {
      assert.deepEqual(plan({ outcome, attempt: 1 }), { kind: 'retry', attempt: 2, delayMs: 1000 });
      assert.deepEqual(plan({ outcome, attempt: 2 }), { kind: 'retry', attempt: 3, delayMs: 2000 });
      assert.deepEqual(plan({ outcome, attempt: 3 }), {
        kind: 'block',
        reason: 'retries exhausted (3 of 3): exit 1',
      });
    }
    assert.deepEqual(plan({ maxAttempts: 1 }), {
      kind: 'block',
      reason: 'retries exhausted (1 of 1): exit 1',
    });
  });

  test('a non-retryable failure blocks at once with its reason', () => {
    assert.deepEqual(plan({ retryable: false, reason: 'agent CLI `x` is not installed' }), {
      kind: 'block',
      reason: 'agent CLI `x` is not installed',
    });
  });

  test('a stopped run blocks the card; a cancelled task wins over every outcome', () => {
    assert.deepEqual(plan({ outcome: 'cancelled', retryable: false, reason: 'stopped by user' }), {
      kind: 'block',
      reason: 'stopped by user',
    });
    for (const outcome of ['succeeded', 'failed', 'timed_out', 'lost', 'cancelled'] as const) {
      assert.deepEqual(plan({ outcome, taskCancelled: true }), { kind: 'cancel' });
    }
  });

  test('success goes to the success column; to Done only when verified and the board says so', () => {
    const ok = { outcome: 'succeeded' as const, retryable: false };
    assert.deepEqual(plan(ok), { kind: 'finish', to: 'review', note: null });
    assert.deepEqual(plan({ ...ok, successColumn: 'done' }), {
      kind: 'finish',
      to: 'done',
      note: null,
    });
    assert.deepEqual(plan({ ...ok, verified: true }), { kind: 'finish', to: 'done', note: null });
    assert.deepEqual(plan({ ...ok, verified: true, doneWhenVerified: false }), {
      kind: 'finish',
      to: 'review',
      note: null,
    });
    assert.deepEqual(plan({ ...ok, verified: false, doneWhenVerified: true }), {
      kind: 'finish',
      to: 'review',
      note: null,
    });
  });

  test('a success with denied tool uses goes to Review with the count, never to Done', () => {
    const ok = { outcome: 'succeeded' as const, retryable: false };
    for (const over of [{}, { successColumn: 'done' as const }, { verified: true }]) {
      assert.deepEqual(plan({ ...ok, ...over, denials: 3 }), {
        kind: 'finish',
        to: 'review',
        note: '3 tool uses denied',
      });
    }
    assert.deepEqual(plan({ ...ok, denials: 1 }), {
      kind: 'finish',
      to: 'review',
      note: '1 tool use denied',
    });
  });

  test('a loop runs again until complete or out of iterations', () => {
    const ok = { outcome: 'succeeded' as const, retryable: false };
    const loop = (iteration: number) => ({ ...base.loop, enabled: true, iteration });
    assert.deepEqual(plan({ ...ok, loop: loop(1) }), { kind: 'loop', iteration: 2, delayMs: 5000 });
    assert.deepEqual(plan({ ...ok, loop: loop(2) }), { kind: 'loop', iteration: 3, delayMs: 5000 });
    assert.deepEqual(plan({ ...ok, loop: loop(3) }), {
      kind: 'block',
      reason: 'loop stopped after 3 iterations: DONE marker absent',
    });
    assert.deepEqual(plan({ ...ok, loop: loop(3), verifyExitCode: 1 }), {
      kind: 'block',
      reason: 'loop stopped after 3 iterations: DONE marker absent, verify exited 1',
    });
    assert.deepEqual(plan({ ...ok, loop: loop(1), complete: true }), {
      kind: 'finish',
      to: 'review',
      note: null,
    });
    assert.deepEqual(plan({ ...ok, loop: loop(2), complete: true, verified: true }), {
      kind: 'finish',
      to: 'done',
      note: null,
    });
    // A failed iteration is retried like any other run, not counted as an iteration.
    assert.deepEqual(plan({ loop: loop(2) }), { kind: 'retry', attempt: 2, delayMs: 1000 });
  });

  test('property: never retries past max_attempts, and retries only retryable failures', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('succeeded', 'failed', 'timed_out', 'lost', 'cancelled' as const),
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 10 }),
        fc.boolean(),
        fc.boolean(),
        (outcome, attempt, maxAttempts, retryable, taskCancelled) => {
          const f = plan({ outcome, attempt, maxAttempts, retryable, taskCancelled });
          if (f.kind === 'retry') {
            assert.ok(retryable && outcome !== 'succeeded' && outcome !== 'cancelled');
            assert.ok(!taskCancelled);
            assert.equal(f.attempt, attempt + 1);
            assert.ok(f.attempt <= maxAttempts);
          }
          if (taskCancelled) assert.equal(f.kind, 'cancel');
        },
      ),
    );
  });
});
