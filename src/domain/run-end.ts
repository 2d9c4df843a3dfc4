import { classifyExit, type ExitFacts, type ExitVerdict } from './exit.js';

/**
 * How a live run ended, decided from what is known afterwards: whether a stop
 * was requested (and why), and the exit status if the supervisor recorded one.
 */
export interface RunEndFacts {
  stopAction: string | null;
  stopReason: string | null;
  /** From exit.json, or from our own child's exit. null: the process vanished without one. */
  exitCode: number | null;
  exitSignal: string | null;
  /** Why the process is gone when there is no exit status (for `lost`). */
  lostReason: string;
  timeoutMs: number;
  idleTimeoutMs: number;
}

export interface RunEndDecision extends ExitVerdict {
  state: 'succeeded' | 'failed' | 'timed_out' | 'cancelled' | 'lost';
}

export function decideRunEnd(f: RunEndFacts): RunEndDecision {
  const exited = f.exitCode !== null || f.exitSignal !== null;
  switch (f.stopAction) {
    case 'block':
    case 'cancel':
      return { state: 'cancelled', reason: f.stopReason ?? 'stopped', retryable: false };
    case 'timeout':
      return { state: 'timed_out', ...classifyExit({ kind: 'timed_out', afterMs: f.timeoutMs }) };
    case 'idle':
      return { state: 'failed', ...classifyExit({ kind: 'idle', afterMs: f.idleTimeoutMs }) };
    case 'budget':
      return {
        state: 'failed',
        ...classifyExit({ kind: 'budget', reason: f.stopReason ?? 'limit reached' }),
      };
    case 'api_error':
      return {
        state: 'failed',
        ...classifyExit({ kind: 'api_error', reason: f.stopReason ?? 'model API error' }),
      };
  }
  if (!exited) return { state: 'lost', ...classifyExit({ kind: 'lost', reason: f.lostReason }) };
  const facts: ExitFacts = { kind: 'exit', code: f.exitCode, signal: f.exitSignal };
  const verdict = classifyExit(facts);
  return { state: f.exitCode === 0 ? 'succeeded' : 'failed', ...verdict };
}
