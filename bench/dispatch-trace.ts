/**
 * Timestamps for the dispatch benchmark (see dispatch.ts), shared by its
 * processes: the server, its spawner helpers and the client. Every stamp is
 * CLOCK_MONOTONIC in µs (process.hrtime), one clock for every process on the
 * machine, so hops can be subtracted across processes. Stamps are kept in
 * memory and written once, when the process ends: no I/O on the measured path.
 */
import fs from 'node:fs';
import { constants, PerformanceObserver, performance } from 'node:perf_hooks';

export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** One stamp: a run's hop, or a span of something that may have got in its way. */
export type Stamp =
  | { k: 'hop'; run: string; hop: string; t: number }
  | { k: 'span'; what: string; t: number; d: number };

export class Trace {
  readonly stamps: Stamp[] = [];

  hop(run: string, hop: string, t = nowUs()): void {
    this.stamps.push({ k: 'hop', run, hop, t });
  }

  span(what: string, t: number, d: number): void {
    this.stamps.push({ k: 'span', what, t, d });
  }

  /** Records this process's garbage collections as spans ("gc <where> <kind>"). */
  watchGc(where: string): void {
    // performance.now() is hrtime since timeOrigin: the offset converts it to our clock.
    const offset = nowUs() - performance.now() * 1000;
    const kinds: Record<number, string> = {
      [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
      [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
      [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
      [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
    };
    const obs = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = (e as unknown as { detail?: { kind?: number } }).detail?.kind ?? -1;
        this.span(
          `gc ${where} ${kinds[kind] ?? kind}`,
          offset + e.startTime * 1000,
          e.duration * 1000,
        );
      }
    });
    obs.observe({ entryTypes: ['gc'] });
  }

  /** Appends every stamp to `file` as JSON lines (synchronously: called on the way out). */
  dump(file: string): void {
    if (this.stamps.length === 0) return;
    fs.appendFileSync(file, `${this.stamps.map((s) => JSON.stringify(s)).join('\n')}\n`);
    this.stamps.length = 0;
  }
}
