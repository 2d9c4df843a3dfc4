import {
  ACTIVE_RUN_STATES,
  type ActiveRunState,
  type RunState,
  type TerminalRunState,
} from '../contract/vocabulary.js';
import { IllegalTransitionError } from './errors.js';

// The words are the contract's (one list for server, CLI and web); the rules are here.
export {
  ACTIVE_RUN_STATES,
  type ActiveRunState,
  RUN_STATES,
  RUN_TRIGGERS,
  type RunState,
  type RunTrigger,
  STOP_ACTIONS,
  type StopAction,
  TERMINAL_RUN_STATES,
  type TerminalRunState,
} from '../contract/vocabulary.js';

export function isActiveRun(s: RunState): s is ActiveRunState {
  return (ACTIVE_RUN_STATES as readonly string[]).includes(s);
}

export function isTerminalRun(s: RunState): s is TerminalRunState {
  return !isActiveRun(s);
}

export type RunEvent =
  | { type: 'claim' }
  | { type: 'release' } // a worker hands a claimed run back before spawning it
  | { type: 'start' }
  | { type: 'exit'; code: number }
  // Ended failed without a failing exit status: the agent could not be
  // spawned, was killed by a signal, or a monitor judged it (idle, budget,
  // API errors) or its own report did.
  | { type: 'fail' }
  | { type: 'timeout' }
  | { type: 'cancel' }
  | { type: 'lose' };

const TABLE: Record<ActiveRunState, Partial<Record<RunEvent['type'], RunState>>> = {
  queued: { claim: 'claimed', cancel: 'cancelled' },
  claimed: {
    start: 'running',
    release: 'queued',
    cancel: 'cancelled',
    lose: 'lost',
    fail: 'failed',
    // Its agent ran, but the worker died between spawning it and recording
    // the start: the reconciler records the end the agent left behind.
    exit: 'succeeded',
    timeout: 'timed_out',
  },
  running: {
    exit: 'succeeded',
    fail: 'failed',
    timeout: 'timed_out',
    cancel: 'cancelled',
    lose: 'lost',
  },
};

/** The run state machine. Terminal runs never change. */
export function transitionRun(from: RunState, event: RunEvent): RunState {
  if (!isActiveRun(from)) {
    throw new IllegalTransitionError('run', from, event.type, []);
  }
  const to = TABLE[from][event.type];
  if (!to) {
    throw new IllegalTransitionError('run', from, event.type, Object.keys(TABLE[from]));
  }
  if (event.type === 'exit') return event.code === 0 ? 'succeeded' : 'failed';
  return to;
}

/**
 * A legal step of the run machine. The store writes a run's state only as
 * one of these (store/runs.ts takes no bare state), and only stepRun makes
 * one (a private member keeps look-alike objects out), so every transition
 * in production is one the machine allowed.
 */
export class RunStep {
  declare private readonly machine: 'run';
  private constructor(
    readonly from: RunState,
    readonly to: RunState,
  ) {}

  static of(from: RunState, event: RunEvent): RunStep {
    return new RunStep(from, transitionRun(from, event));
  }
}

/** The step `event` makes from `from`; throws IllegalTransitionError when there is none. */
export function stepRun(from: RunState, event: RunEvent): RunStep {
  return RunStep.of(from, event);
}

/** The event by which a run reaches the end decided for it (see decideRunEnd). */
export function runEndEvent(end: { state: TerminalRunState; exitCode: number | null }): RunEvent {
  switch (end.state) {
    case 'succeeded':
      return { type: 'exit', code: 0 };
    case 'failed':
      return end.exitCode !== null && end.exitCode !== 0
        ? { type: 'exit', code: end.exitCode }
        : { type: 'fail' };
    case 'timed_out':
      return { type: 'timeout' };
    case 'cancelled':
      return { type: 'cancel' };
    case 'lost':
      return { type: 'lose' };
  }
}

/** The step that ends a run from `from` as decided; throws when the machine has none. */
export function stepRunEnd(
  from: RunState,
  end: { state: TerminalRunState; exitCode: number | null },
): RunStep {
  return stepRun(from, runEndEvent(end));
}
