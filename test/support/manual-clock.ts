/**
 * A clock the test drives by hand, timers included: nothing fires until the
 * test advances time, so "nothing happened" is proven by advancing past the
 * deadline, not by sleeping through it. Not a test file.
 */
import { type Clock, sleepOn, type Timer } from '../../src/domain/clock.js';

interface Entry {
  at: number;
  /** Creation (or re-arm) order: timers due at the same instant fire in it, as Node's do. */
  seq: number;
  fn: () => unknown;
  every: number | null;
}

class ManualTimer implements Timer {
  constructor(readonly id: number) {}
  unref(): this {
    return this;
  }
}

/** More firings than this in one advance is a timer re-arming itself at the same instant. */
const MAX_FIRINGS = 100_000;

export class ManualClock implements Clock {
  private readonly timers = new Map<number, Entry>();
  private nextId = 1;
  private seq = 0;

  /**
   * The instant. Setting it jumps without firing timers (a clock stepped by
   * the system); advance() runs what falls due on the way.
   */
  constructor(public t = Date.UTC(2030, 0, 1)) {}

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => unknown, ms: number): Timer {
    return this.add(fn, ms, null);
  }

  setInterval(fn: () => unknown, ms: number): Timer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  clearTimeout(timer: Timer | null | undefined): void {
    if (timer instanceof ManualTimer) this.timers.delete(timer.id);
  }

  clearInterval(timer: Timer | null | undefined): void {
    this.clearTimeout(timer);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** How many timers are armed. */
  get pending(): number {
    return this.timers.size;
  }

  /** How many armed timers fire at exactly `at` (a test waits for code to arm one). */
  armedAt(at: number): number {
    let n = 0;
    for (const e of this.timers.values()) if (e.at === at) n++;
    return n;
  }

  /** When the earliest armed timer is due, or null. */
  nextAt(): number | null {
    let min: number | null = null;
    for (const e of this.timers.values()) if (min === null || e.at < min) min = e.at;
    return min;
  }

  /**
   * Moves time `ms` ahead, synchronously firing, in order, every timer due on
   * the way (timers those schedule included), each at its own instant.
   */
  advance(ms: number): void {
    const end = this.t + ms;
    for (let n = 0, due = this.due(end); due; due = this.due(end)) {
      if (++n > MAX_FIRINGS) throw new Error('a timer keeps re-arming itself at the same instant');
      this.fire(...due);
    }
    this.t = Math.max(this.t, end);
  }

  /**
   * Like advance(), for promise-driven code: before each timer and at the
   * end, lets pending promise callbacks and I/O callbacks run (`settle`), and
   * awaits what a callback returns (the engine's timers return their pass), so
   * each pass has finished before the next timer fires.
   */
  async advanceAsync(ms: number, settle: () => Promise<void> = turn): Promise<void> {
    const end = this.t + ms;
    await settle();
    for (let n = 0, due = this.due(end); due; due = this.due(end)) {
      if (++n > MAX_FIRINGS) throw new Error('a timer keeps re-arming itself at the same instant');
      await this.fire(...due);
      await settle();
    }
    this.t = Math.max(this.t, end);
  }

  private add(fn: () => unknown, ms: number, every: number | null): Timer {
    const id = this.nextId++;
    this.timers.set(id, { at: this.t + Math.max(0, ms), seq: this.seq++, fn, every });
    return new ManualTimer(id);
  }

  private due(end: number): [number, Entry] | null {
    let best: [number, Entry] | null = null;
    for (const [id, e] of this.timers) {
      if (e.at > end) continue;
      if (!best || e.at < best[1].at || (e.at === best[1].at && e.seq < best[1].seq))
        best = [id, e];
    }
    return best;
  }

  private fire(id: number, e: Entry): unknown {
    this.t = Math.max(this.t, e.at);
    if (e.every === null) this.timers.delete(id);
    else {
      e.at += e.every;
      e.seq = this.seq++;
    }
    return e.fn();
  }
}

/** One turn of the event loop: promise callbacks, then I/O and immediates already queued. */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}
