/**
 * Time, as the board sees it: the instant, and timers on the same clock. The
 * engine, its monitors, the scheduler, leases and gc wait through it, so a
 * test can drive them with a manual clock instead of sleeping.
 *
 * The system clock lives here too: it uses only globals, and the store (which
 * needs a default clock) may not import anything above the domain.
 */

/** A pending timer: only for clearTimeout/clearInterval, and unref (do not keep the process alive). */
export interface Timer {
  unref(): unknown;
}

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once, `ms` from now. What `fn` returns (a pass's promise) is for a manual clock to await. */
  setTimeout(fn: () => unknown, ms: number): Timer;
  clearTimeout(timer: Timer | null | undefined): void;
  /** Calls `fn` every `ms`. */
  setInterval(fn: () => unknown, ms: number): Timer;
  clearInterval(timer: Timer | null | undefined): void;
  /** Resolves after `ms`; rejects with the signal's reason once it aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** Node's timers take at most a signed 32-bit delay; a longer one fires at once. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, Math.min(ms, MAX_TIMER_MS)),
  clearTimeout: (t) => globalThis.clearTimeout(t as ReturnType<typeof globalThis.setTimeout>),
  setInterval: (fn, ms) => globalThis.setInterval(fn, Math.min(ms, MAX_TIMER_MS)),
  clearInterval: (t) => globalThis.clearInterval(t as ReturnType<typeof globalThis.setInterval>),
  sleep: (ms, signal) => sleepOn(systemClock, ms, signal),
};

/** `sleep` for any clock, from its setTimeout: one implementation of the abort rules. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
