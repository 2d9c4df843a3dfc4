import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { IllegalTransitionError } from '../../src/domain/errors.js';
import {
  ACTIVE_RUN_STATES,
  isActiveRun,
  isTerminalRun,
  RUN_STATES,
  type RunEvent,
  type RunState,
  runEndEvent,
  stepRun,
  stepRunEnd,
  TERMINAL_RUN_STATES,
  type TerminalRunState,
  transitionRun,
} from '../../src/domain/run.js';

const EVENTS: RunEvent[] = [
  { type: 'claim' },
  { type: 'release' },
  { type: 'start' },
  { type: 'exit', code: 0 },
  { type: 'exit', code: 1 },
  { type: 'exit', code: 137 },
  { type: 'fail' },
  { type: 'timeout' },
  { type: 'cancel' },
  { type: 'lose' },
];

/** §3: queued → claimed → running → succeeded | failed | timed_out | cancelled | lost. */
const TABLE: Record<string, Record<string, RunState>> = {
  queued: { claim: 'claimed', cancel: 'cancelled' },
  // A claimed run may also end as a running one does: its agent ran, but
  // the start was never recorded (the worker died in between).
  claimed: {
    start: 'running',
    release: 'queued',
    'exit:0': 'succeeded',
    'exit:1': 'failed',
    'exit:137': 'failed',
    fail: 'failed',
    timeout: 'timed_out',
    cancel: 'cancelled',
    lose: 'lost',
  },
  running: {
    'exit:0': 'succeeded',
    'exit:1': 'failed',
    'exit:137': 'failed',
    fail: 'failed',
    timeout: 'timed_out',
    cancel: 'cancelled',
    lose: 'lost',
  },
};
const ALLOWED: Record<string, string[]> = {
  queued: ['claim', 'cancel'],
  claimed: ['start', 'release', 'cancel', 'lose', 'fail', 'exit', 'timeout'],
  running: ['exit', 'fail', 'timeout', 'cancel', 'lose'],
};

const key = (e: RunEvent) => (e.type === 'exit' ? `exit:${e.code}` : e.type);

describe('transitionRun: every state x every event', () => {
  for (const from of RUN_STATES) {
    for (const e of EVENTS) {
      const want = TABLE[from]?.[key(e)];
      test(`${from} + ${key(e)} -> ${want ?? 'IllegalTransitionError'}`, () => {
        if (want) {
          assert.equal(transitionRun(from, e), want);
          return;
        }
        assert.throws(
          () => transitionRun(from, e),
          (err: unknown) => {
            assert.ok(err instanceof IllegalTransitionError);
            assert.match(err.message, new RegExp(`^run is ${from}: cannot ${e.type}\\.`));
            const allowed = ALLOWED[from] ?? [];
            assert.deepEqual([...(err.details.allowed as string[])].sort(), [...allowed].sort());
            assert.ok(
              err.message.endsWith(`Allowed from ${from}: ${allowed.join(', ') || 'none'}.`),
              err.message,
            );
            return true;
          },
        );
      });
    }
  }
});

test('active and terminal states partition the run states', () => {
  assert.deepEqual([...ACTIVE_RUN_STATES, ...TERMINAL_RUN_STATES].sort(), [...RUN_STATES].sort());
  for (const s of RUN_STATES) assert.notEqual(isActiveRun(s), isTerminalRun(s));
  assert.deepEqual(
    RUN_STATES.filter((s) => isActiveRun(s)),
    ['queued', 'claimed', 'running'],
  );
});

test('property: from any state, any event sequence never leaves a terminal state', () => {
  const event = fc.constantFrom(...EVENTS);
  fc.assert(
    fc.property(fc.constantFrom(...RUN_STATES), fc.array(event, { maxLength: 30 }), (s0, evs) => {
      let s: RunState = s0;
      let terminalAt: RunState | null = isTerminalRun(s) ? s : null;
      for (const e of evs) {
        try {
          s = transitionRun(s, e);
        } catch (err) {
          assert.ok(err instanceof IllegalTransitionError);
        }
        if (terminalAt) assert.equal(s, terminalAt);
        else if (isTerminalRun(s)) terminalAt = s;
      }
    }),
    { numRuns: 500 },
  );
});

describe('stepRunEnd: the end decided for a run, as a step of the machine', () => {
  const ENDS: { state: TerminalRunState; exitCode: number | null }[] = [
    { state: 'succeeded', exitCode: 0 },
    { state: 'failed', exitCode: 1 },
    { state: 'failed', exitCode: 0 }, // the agent's own report, or a failed check
    { state: 'failed', exitCode: null }, // a signal, a monitor's verdict, a spawn error
    { state: 'timed_out', exitCode: null },
    { state: 'cancelled', exitCode: null },
    { state: 'lost', exitCode: null },
  ];
  for (const from of RUN_STATES) {
    for (const end of ENDS) {
      const e = runEndEvent(end);
      const want = TABLE[from]?.[key(e)];
      test(`${from} ends ${end.state} (exit ${end.exitCode}) -> ${want ?? 'refused'}`, () => {
        if (!want) {
          assert.throws(() => stepRunEnd(from, end), IllegalTransitionError);
          return;
        }
        // The step lands exactly on the decided state: the machine and the decision agree.
        assert.equal(want, end.state);
        const step = stepRunEnd(from, end);
        assert.deepEqual([step.from, step.to], [from, end.state]);
        assert.equal(stepRun(from, e).to, end.state);
      });
    }
  }
  test('a queued run can only be cancelled, a terminal one not even that', () => {
    for (const end of ENDS) {
      if (end.state === 'cancelled') assert.equal(stepRunEnd('queued', end).to, 'cancelled');
      else assert.throws(() => stepRunEnd('queued', end), IllegalTransitionError);
      for (const t of TERMINAL_RUN_STATES) {
        assert.throws(() => stepRunEnd(t, end), IllegalTransitionError);
      }
    }
  });
});
