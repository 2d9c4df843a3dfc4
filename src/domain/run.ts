import { IllegalTransitionError } from './errors.js';

export const RUN_STATES = [
  'queued',
  'claimed',
  'running',
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'lost',
] as const;
export type RunState = (typeof RUN_STATES)[number];

export const ACTIVE_RUN_STATES = ['queued', 'claimed', 'running'] as const;
export type ActiveRunState = (typeof ACTIVE_RUN_STATES)[number];
export const TERMINAL_RUN_STATES = [
  'succeeded',
  'failed',
  'timed_out',
  'cancelled',
  'lost',
] as const;
export type TerminalRunState = (typeof TERMINAL_RUN_STATES)[number];

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
  | { type: 'spawn_failed' }
  | { type: 'timeout' }
  | { type: 'cancel' }
  | { type: 'lose' };

const TABLE: Record<ActiveRunState, Partial<Record<RunEvent['type'], RunState>>> = {
  queued: { claim: 'claimed', cancel: 'cancelled' },
  claimed: {
    start: 'running',
    release: 'queued',
    spawn_failed: 'failed',
    cancel: 'cancelled',
    lose: 'lost',
  },
  running: { exit: 'succeeded', timeout: 'timed_out', cancel: 'cancelled', lose: 'lost' },
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
