import { syncHeartbeats } from '../app/heartbeat.js';
import { runDueSchedules, type SchedulePass } from '../app/schedules.js';
import type { Timer } from '../domain/clock.js';
import type { EventRecord } from '../store/events.js';
import type { EngineContext } from './context.js';

/**
 * Longest sleep between passes. A schedule added by a process this one does
 * not hear from (another host on PostgreSQL) is noticed within this long.
 */
const MAX_SLEEP_MS = 60_000;

/**
 * Fires schedule ticks. One timer is armed for the earliest due tick; it is
 * only a wake-up: each pass reads the schedules and their ticks from the
 * database, and the (schedule, tick) rows make a tick fire once even when
 * several engines tick at the same time.
 */
export class Scheduler {
  private running = false;
  private again = false;
  private stopped = false;
  private timer: Timer | null = null;
  private draining: Promise<void> = Promise.resolve();
  /** From the last pass: whether a run's end may start a waiting tick. */
  private waitingTicks = true;

  constructor(private readonly ctx: EngineContext) {}

  /** Brings heartbeat schedules in line with the config, then runs the first pass. */
  async start(): Promise<void> {
    try {
      await syncHeartbeats(this.ctx.app);
    } catch (e) {
      this.ctx.log.warn(`heartbeat schedules: ${(e as Error).message}`);
    }
    this.wake();
  }

  /** Wakes for what may give a pass something to do: schedules changed, or a run ended while ticks wait. */
  notice(events: EventRecord[]): void {
    const relevant = (e: EventRecord) =>
      e.type.startsWith('schedule.') ||
      e.type === 'external' ||
      (e.type === 'run.finished' && this.waitingTicks);
    if (events.some(relevant)) this.wake();
  }

  /** Resolves once the pass it started (or joined) has ended: for a manual clock to await. */
  wake(): Promise<void> {
    if (this.stopped) return this.draining;
    if (this.running) {
      this.again = true;
      return this.draining;
    }
    this.running = true;
    this.draining = this.drain();
    return this.draining;
  }

  /** One pass at `now`: what the timer does, exposed for tests driving a fake clock. */
  async tick(now: number): Promise<SchedulePass> {
    const pass = await runDueSchedules(this.ctx.app, now);
    this.waitingTicks = pass.mayHaveWaiting;
    for (const e of pass.errors) this.ctx.log.warn(e);
    return pass;
  }

  private async drain(): Promise<void> {
    let nextAt: number | null = null;
    try {
      do {
        this.again = false;
        nextAt = (await this.tick(this.ctx.app.clock.now())).nextDueAt;
      } while (this.again && !this.stopped);
    } catch (e) {
      this.ctx.log.warn(`scheduler: ${(e as Error).message}; retrying in 1s`);
      nextAt = this.ctx.app.clock.now() + 1000;
    } finally {
      this.running = false;
    }
    this.arm(nextAt);
  }

  private arm(at: number | null): void {
    if (this.stopped) return;
    const { clock } = this.ctx.app;
    clock.clearTimeout(this.timer);
    const now = clock.now();
    const delay = at === null ? MAX_SLEEP_MS : Math.min(Math.max(0, at - now), MAX_SLEEP_MS);
    this.timer = clock.setTimeout(() => {
      this.timer = null;
      return this.wake();
    }, delay);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    this.ctx.app.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
