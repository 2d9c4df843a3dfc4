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
  TERMINAL_RUN_STATES,
  transitionRun,
} from '../../src/domain/run.js';

const EVENTS: RunEvent[] = [
  { type: 'claim' },
  { type: 'release' },
  { type: 'start' },
  { type: 'exit', code: 0 },
  { type: 'exit', code: 1 },
  { type: 'exit', code: 137 },
  { type: 'spawn_failed' },
  { type: 'timeout' },
  { type: 'cancel' },
  { type: 'lose' },
];

/** §3: queued → claimed → running → succeeded | failed | timed_out | cancelled | lost. */
const TABLE: Record<string, Record<string, RunState>> = {
  queued: { claim: 'claimed', cancel: 'cancelled' },
  claimed: {
    start: 'running',
    release: 'queued',
    spawn_failed: 'failed',
    cancel: 'cancelled',
    lose: 'lost',
  },
  running: {
    'exit:0': 'succeeded',
    'exit:1': 'failed',
    'exit:137': 'failed',
    timeout: 'timed_out',
    cancel: 'cancelled',
    lose: 'lost',
  },
};
const ALLOWED: Record<string, string[]> = {
  queued: ['claim', 'cancel'],
  claimed: ['start', 'release', 'spawn_failed', 'cancel', 'lose'],
  running: ['exit', 'timeout', 'cancel', 'lose'],
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
