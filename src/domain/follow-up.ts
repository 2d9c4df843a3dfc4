import { type BackoffPolicy, backoffMs } from './retry.js';

/** What the board does after a run reaches a terminal state. Pure. */
export type FollowUp =
  | { kind: 'retry'; attempt: number; delayMs: number }
  | { kind: 'loop'; iteration: number; delayMs: number }
  | { kind: 'finish'; to: 'review' | 'done'; note: string | null }
  | { kind: 'block'; reason: string }
  | { kind: 'cancel' };

export interface FollowUpInput {
  outcome: 'succeeded' | 'failed' | 'timed_out' | 'lost' | 'cancelled';
  attempt: number;
  maxAttempts: number;
  retryable: boolean;
  reason: string;
  /** Set when the user cancelled the task itself (not just stopped the run). */
  taskCancelled: boolean;
  loop: { enabled: boolean; iteration: number; maxIterations: number; delayMs: number };
  /** Loop completion: the DONE marker exists or the verify command passed. */
  complete: boolean;
  /** A verify command was configured and exited 0. */
  verified: boolean;
  /** The verify command's exit code, when one ran. */
  verifyExitCode: number | null;
  /** Tool uses the agent's permission rules denied: its work may be incomplete. */
  denials: number;
  successColumn: 'review' | 'done';
  /** Board policy: a run whose verify command passed goes straight to Done. */
  doneWhenVerified: boolean;
  backoff: BackoffPolicy;
}

export function planFollowUp(i: FollowUpInput, random: () => number): FollowUp {
  if (i.taskCancelled) return { kind: 'cancel' };
  if (i.outcome === 'succeeded') {
    if (i.loop.enabled && !i.complete) {
      if (i.loop.iteration < i.loop.maxIterations) {
        return { kind: 'loop', iteration: i.loop.iteration + 1, delayMs: i.loop.delayMs };
      }
      const why = ['DONE marker absent'];
      if (i.verifyExitCode !== null) why.push(`verify exited ${i.verifyExitCode}`);
      return {
        kind: 'block',
        reason: `loop stopped after ${i.loop.iteration} iterations: ${why.join(', ')}`,
      };
    }
    // A person looks at work done with tools denied: it is never Done on its own.
    if (i.denials > 0) {
      return {
        kind: 'finish',
        to: 'review',
        note: `${i.denials} tool ${i.denials === 1 ? 'use' : 'uses'} denied`,
      };
    }
    return {
      kind: 'finish',
      to: i.verified && i.doneWhenVerified ? 'done' : i.successColumn,
      note: null,
    };
  }
  if (i.outcome === 'cancelled') return { kind: 'block', reason: i.reason };
  if (i.retryable && i.attempt < i.maxAttempts) {
    const attempt = i.attempt + 1;
    return { kind: 'retry', attempt, delayMs: backoffMs(attempt, i.backoff, random) };
  }
  const why = i.retryable ? `retries exhausted (${i.attempt} of ${i.maxAttempts}): ` : '';
  return { kind: 'block', reason: `${why}${i.reason}` };
}
