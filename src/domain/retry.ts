export interface BackoffPolicy {
  /** Delay before the second attempt, in ms. */
  baseMs: number;
  factor: number;
  maxMs: number;
  /** 0..1: the share of the delay that is randomised ("equal jitter" when 0.5). */
  jitter: number;
}

/**
 * Delay before attempt `nextAttempt` (2 = the first retry): exponential,
 * capped, with jitter so that many failing runs do not retry in lock-step.
 */
export function backoffMs(
  nextAttempt: number,
  policy: BackoffPolicy,
  random: () => number,
): number {
  const exp = Math.max(0, nextAttempt - 2);
  const raw = Math.min(policy.maxMs, policy.baseMs * policy.factor ** exp);
  const jitter = Math.min(1, Math.max(0, policy.jitter));
  return Math.round(raw * (1 - jitter) + raw * jitter * random());
}
