import { sql } from 'kysely';
import type { EventRecord } from './events.js';
import type { Tx } from './store.js';

type Work<T> = (tx: Tx) => Promise<T>;
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

interface Job {
  fn: Work<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: small writes requested in the same turn of the event loop
 * share one transaction. A busy worker records many runs starting and
 * ending at once, and one commit for all of them costs little more than
 * one for each. Every write runs in its own savepoint, so one that throws
 * is rolled back and rejected alone; the others commit. Nobody's promise
 * resolves before the commit, so nothing is acknowledged that could be lost.
 */
export class GroupCommit {
  private jobs: Job[] = [];
  private scheduled = false;

  constructor(private readonly transaction: <T>(fn: Work<T>) => Promise<T>) {}

  run<T>(fn: Work<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.jobs.push({ fn, resolve: resolve as (v: unknown) => void, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      // After the I/O callbacks of this turn: the writes they request join in.
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const jobs = this.jobs;
    this.jobs = [];
    if (jobs.length === 1) {
      const job = jobs[0] as Job;
      this.transaction(job.fn).then(job.resolve, job.reject);
      return;
    }
    let outcomes: Outcome[] = [];
    try {
      // Retried whole on a busy database (tx's retry), so outcomes start over.
      await this.transaction(async (tx) => {
        outcomes = [];
        for (const job of jobs) outcomes.push(await inSavepoint(tx, job.fn));
      });
    } catch (error) {
      for (const job of jobs) job.reject(error);
      return;
    }
    outcomes.forEach((o, i) => {
      const job = jobs[i] as Job;
      if (o.ok) job.resolve(o.value);
      else job.reject(o.error);
    });
  }
}

async function inSavepoint(tx: Tx, fn: Work<unknown>): Promise<Outcome> {
  const events: EventRecord[] = [];
  await sql`savepoint grouped`.execute(tx.db);
  try {
    const value = await fn({ ...tx, events });
    await sql`release savepoint grouped`.execute(tx.db);
    tx.events.push(...events);
    return { ok: true, value };
  } catch (error) {
    await sql`rollback to savepoint grouped`.execute(tx.db);
    await sql`release savepoint grouped`.execute(tx.db);
    return { ok: false, error };
  }
}
