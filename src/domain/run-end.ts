import { type AgentErrorCategory, classifyExit, type ExitFacts, type ExitVerdict } from './exit.js';

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

/** What the agent itself said about the run, as its adapter read it. */
export interface AgentAccount {
  /** The agent's name in config, and its CLI with the version that ran ("claude 2.1.330"). */
  agent: string;
  cli: string;
  /** The agent's final result: true ok, false an error, null none seen. */
  resultOk: boolean | null;
  /** The agent's own words about a failure. */
  failure: string | null;
  /** A failure the adapter recognised (a rejected key, a usage error): never retried. */
  diagnosis: { category: AgentErrorCategory; message: string; status: number | null } | null;
  unparsedLines: number;
  /**
   * The run's cost passed its budget (a CLI that reports usage only at its
   * end is over it after the fact): the reason, else null.
   */
  overBudget: string | null;
  /** A plain command reports nothing but its exit code: exit 0 is its result. */
  exitIsResult: boolean;
}

/**
 * A run succeeds only on the agent's own account (DESIGN §8): exit 0 without
 * a final result is a failure that names the CLI, and a recognised auth or
 * configuration failure is never retried. Stops and timeouts keep their verdict.
 */
export function judgeByAccount(
  d: RunEndDecision,
  stopped: boolean,
  a: AgentAccount,
): RunEndDecision {
  if (stopped || (d.state !== 'succeeded' && d.state !== 'failed')) return d;
  if (a.diagnosis) {
    return {
      state: 'failed',
      ...classifyExit({
        kind: 'agent_error',
        agent: a.agent,
        cli: a.cli,
        ...a.diagnosis,
      }),
    };
  }
  if (a.overBudget)
    return { state: 'failed', ...classifyExit({ kind: 'budget', reason: a.overBudget }) };
  if (d.state === 'failed') {
    return a.failure ? { ...d, reason: `${d.reason}: ${a.failure}` } : d;
  }
  if (a.exitIsResult || a.resultOk === true) return d;
  if (a.resultOk === false) {
    return {
      state: 'failed',
      retryable: true,
      reason: `the agent reported an error: ${a.failure ?? 'no message'}`,
    };
  }
  return {
    state: 'failed',
    ...classifyExit({
      kind: 'no_result',
      agent: a.agent,
      cli: a.cli,
      unparsedLines: a.unparsedLines,
    }),
  };
}
