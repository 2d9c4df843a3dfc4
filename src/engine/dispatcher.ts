import { MAX_TIMER_MS, type Timer } from '../domain/clock.js';
import { claimRuns, nextDueAt, type RunRow } from '../store/runs.js';
import type { EngineContext } from './context.js';
import { launchRun } from './launcher.js';

const MAX_RETRY_MS = 8000;

/**
 * Claims and launches runnable runs the moment something may have made one
 * runnable: a commit in this process, a commit seen from another process, or
 * the timer armed for the earliest future run_at. The timer is a wake-up
 * only; the runs table is the queue.
 */
export class Dispatcher {
  private running = false;
  private atCapacity = false;
  private again = false;
  private timer: Timer | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private failures = 0;
  private draining: Promise<void> = Promise.resolve();

  constructor(private readonly ctx: EngineContext) {}

  /** Resolves once the pass it started (or joined) has ended: for a manual clock to await. */
  wake(): Promise<void> {
    if (this.ctx.stopping) return this.draining;
    if (this.running) {
      this.again = true;
      return this.draining;
    }
    this.running = true;
    this.draining = this.drain();
    return this.draining;
  }

  private async drain(): Promise<void> {
    try {
      do {
        this.again = false;
        // Runs due before this pass began are the claim's business; the timer
        // is armed for what falls due after it (even if a timer fired early).
        const passStart = this.ctx.app.clock.now();
        for (;;) {
          if (this.ctx.stopping) return;
          const { runs, asked } = await this.claimSome();
          for (const run of runs) {
            this.ctx.launching.set(run.id, run.agent);
            void launchRun(this.ctx, run)
              .catch((e) =>
                this.ctx.log.warn(`launching run ${run.id} failed: ${(e as Error).message}`),
              )
              .finally(() => this.ctx.launching.delete(run.id));
          }
          // A claim that got fewer than it asked for took every run it could:
          // another would find none, and would cost a write transaction beside
          // the launches just started. A commit meanwhile sets `again`.
          if (runs.length === 0 || runs.length < asked) break;
        }
        // Inside the loop: a wake-up that arrives while the timer is armed is not lost.
        // At capacity, the next run to end wakes us; no timer is needed.
        if (!this.atCapacity) await this.armTimer(passStart);
      } while (this.again);
      this.failures = 0;
    } catch (e) {
      // The database may be away: stop claiming, and look again with backoff.
      const delay = Math.min(MAX_RETRY_MS, 1000 * 2 ** this.failures);
      this.failures++;
      this.ctx.log.warn(`dispatch failed: ${(e as Error).message}; retrying in ${delay / 1000}s`);
      this.armAt(this.ctx.app.clock.now() + delay);
    } finally {
      this.running = false;
    }
  }

  /**
   * How many more runs this worker may start now by its own counts: none
   * when its runs already fill every limit, and then the DB need not be
   * asked until one of them ends (which wakes the dispatcher). Only a
   * shortcut and a batch size: the claim itself enforces the limits.
   */
  private room(agentLimits: Record<string, number>): number {
    const mine = new Map<string, number>();
    for (const l of this.ctx.live.values())
      mine.set(l.init.agent, (mine.get(l.init.agent) ?? 0) + 1);
    for (const agent of this.ctx.launching.values()) mine.set(agent, (mine.get(agent) ?? 0) + 1);
    let total = 0;
    for (const n of mine.values()) total += n;
    let room = this.ctx.app.config.board.max_concurrency - total;
    // The worker's own cap is enforced here, exactly: only this loop claims for it.
    if (this.ctx.concurrency !== null) room = Math.min(room, this.ctx.concurrency - total);
    let agentRoom = 0;
    for (const [agent, limit] of Object.entries(agentLimits))
      agentRoom += Math.max(0, limit - (mine.get(agent) ?? 0));
    return Math.max(0, Math.min(room, agentRoom));
  }

  /** The runs claimed, and how many were asked for (the room this worker had). */
  private async claimSome(): Promise<{ runs: RunRow[]; asked: number }> {
    const { app, worker, agentLimits } = this.ctx;
    const room = this.room(agentLimits);
    this.atCapacity = room === 0;
    if (this.atCapacity) return { runs: [], asked: 0 };
    const runs = await app.store.tx((tx) =>
      claimRuns(
        tx,
        {
          workerId: worker.id,
          host: worker.host,
          bootId: worker.bootId,
          leaseMs: app.config.defaults.lease,
          agentLimits,
          globalLimit: app.config.board.max_concurrency,
        },
        room,
      ),
    );
    return { runs, asked: room };
  }

  private async armTimer(after: number): Promise<void> {
    const due = await nextDueAt(this.ctx.app.store.db, after);
    if (due !== undefined) this.armAt(due);
  }

  private armAt(at: number): void {
    if (this.ctx.stopping) return;
    if (this.timer && at >= this.timerAt) return;
    const { clock } = this.ctx.app;
    clock.clearTimeout(this.timer);
    this.timerAt = at;
    const delay = Math.max(0, at - clock.now());
    this.timer = clock.setTimeout(
      () => {
        this.timer = null;
        this.timerAt = Number.POSITIVE_INFINITY;
        return this.wake();
      },
      Math.min(delay, MAX_TIMER_MS),
    );
    this.timer.unref();
  }

  stop(): void {
    this.ctx.app.clock.clearTimeout(this.timer);
    this.timer = null;
  }
}
