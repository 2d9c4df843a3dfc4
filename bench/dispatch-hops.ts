/**
 * Reads the dispatch benchmark's stamps (dispatch-trace.ts) back: one sample
 * per run, each hop's share of it, and for the slowest samples what else was
 * happening meanwhile (collections, timers, transactions, spares being made).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Stamp } from './dispatch-trace.js';
import { percentile } from './harness.js';

/** A run's way from the client's POST to its agent's first instruction, in order. */
export const HOPS = [
  'posted',
  'request arrives',
  'committed',
  'claim begins',
  'claimed',
  'spawn requested',
  'helper received',
  'helper fork',
  'helper forked',
  'agent runs',
] as const;
export const BARE_HOPS = ['spawn', 'forked', 'agent runs'] as const;

export interface Sample {
  key: string;
  /** Stamps by hop, µs. */
  at: Map<string, number>;
  /** End to end, ms. */
  ms: number;
}

export interface Stamps {
  agentboard: Sample[];
  bare: Sample[];
  spans: { what: string; t: number; d: number }[];
}

export function readStamps(prefix: string): Stamps {
  const dir = path.dirname(prefix);
  const base = `${path.basename(prefix)}.`;
  const byKey = new Map<string, Map<string, number>>();
  const runOfTask = new Map<string, string>();
  const spans: Stamps['spans'] = [];
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(base)) continue;
    for (const line of fs.readFileSync(path.join(dir, name), 'utf8').split('\n')) {
      if (!line) continue;
      const s = JSON.parse(line) as Stamp;
      if (s.k === 'span') {
        spans.push(s);
        continue;
      }
      if (s.hop.startsWith('task:')) runOfTask.set(s.hop, s.run);
      const at = byKey.get(s.run) ?? new Map<string, number>();
      byKey.set(s.run, at);
      at.set(s.hop, s.t);
    }
  }
  spans.sort((a, b) => a.t - b.t);
  const agentboard: Sample[] = [];
  const bare: Sample[] = [];
  for (const [key, at] of byKey) {
    const end = at.get('agent runs');
    if (key.startsWith('bare:')) {
      const start = at.get('spawn');
      if (start !== undefined && end !== undefined)
        bare.push({ key, at, ms: (end - start) / 1000 });
    } else if (key.startsWith('task:')) {
      const start = at.get('posted');
      const run = runOfTask.get(key);
      if (start === undefined || end === undefined || run === undefined) continue;
      // The client stamped the task; the server and helper stamped its run.
      for (const [hop, t] of byKey.get(run) ?? []) at.set(hop, t);
      agentboard.push({ key: run, at, ms: (end - start) / 1000 });
    }
  }
  return { agentboard, bare, spans };
}

export interface Tail {
  n: number;
  p50: number;
  p99: number;
  p999: number;
  max: number;
}

export function tail(values: readonly number[]): Tail {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted.at(-1) ?? Number.NaN,
  };
}

/** ms between consecutive hops of a sample (absent hops skipped), by "a → b". */
export function hopDeltas(s: Sample, hops: readonly string[]): [string, number][] {
  const out: [string, number][] = [];
  let prev: string | null = null;
  for (const hop of hops) {
    if (!s.at.has(hop)) continue;
    if (prev !== null)
      out.push([
        `${prev} → ${hop}`,
        ((s.at.get(hop) as number) - (s.at.get(prev) as number)) / 1000,
      ]);
    prev = hop;
  }
  return out;
}

function push(by: Map<string, number[]>, key: string, value: number): void {
  const list = by.get(key) ?? [];
  by.set(key, list);
  list.push(value);
}

const f = (x: number) => x.toFixed(2).padStart(7);

/** The per-hop table: p50, p99, p99.9 and max of each hop over every sample. */
export function hopTable(samples: readonly Sample[], hops: readonly string[]): string {
  const by = new Map<string, number[]>();
  for (const s of samples)
    for (const [hop, ms] of hopDeltas(s, hops)) {
      push(by, hop, ms);
    }
  const width = Math.max(...[...by.keys()].map((k) => k.length));
  const lines = [`${'hop'.padEnd(width)}      p50     p99   p99.9     max   (ms)`];
  for (const [hop, list] of by) {
    const t = tail(list);
    lines.push(`${hop.padEnd(width)}  ${f(t.p50)} ${f(t.p99)} ${f(t.p999)} ${f(t.max)}`);
  }
  return lines.join('\n');
}

/**
 * The slowest samples, each with its hops (the one furthest over its own
 * median marked) and whatever took ≥ 0.2 ms of some process meanwhile.
 */
export function outliers(stamps: Stamps, hops: readonly string[], count: number): string {
  const medians = new Map<string, number>();
  const by = new Map<string, number[]>();
  for (const s of stamps.agentboard)
    for (const [hop, ms] of hopDeltas(s, hops)) {
      push(by, hop, ms);
    }
  for (const [hop, list] of by) medians.set(hop, tail(list).p50);
  const slowest = [...stamps.agentboard].sort((a, b) => b.ms - a.ms).slice(0, count);
  const out: string[] = [];
  for (const s of slowest) {
    const t0 = s.at.get(hops[0] as string) as number;
    const t1 = s.at.get('agent runs') as number;
    const deltas = hopDeltas(s, hops);
    let worst = deltas[0];
    for (const d of deltas)
      if (worst && d[1] - (medians.get(d[0]) ?? 0) > worst[1] - (medians.get(worst[0]) ?? 0))
        worst = d;
    out.push(`${s.key}: ${s.ms.toFixed(2)} ms`);
    for (const [hop, ms] of deltas)
      out.push(
        `    ${hop === worst?.[0] ? '*' : ' '} ${hop.padEnd(34)} ${f(ms)} (median ${f(medians.get(hop) ?? 0)})`,
      );
    const during = stamps.spans.filter((x) => x.t + x.d >= t0 && x.t <= t1 && x.d >= 200);
    for (const x of during)
      out.push(
        `      meanwhile at +${((x.t - t0) / 1000).toFixed(2)} ms: ${x.what} ${(x.d / 1000).toFixed(2)} ms`,
      );
  }
  return out.join('\n');
}

/** What else ran, by kind (a helper's pid and a group's size left out): count, p99 and max, in ms. */
export function spanTable(spans: Stamps['spans']): string {
  const by = new Map<string, number[]>();
  for (const s of spans) {
    const kind = s.what.replace(/^helper \d+/, 'helper N').replace(/\(\d+\)/, '(N)');
    push(by, kind, s.d / 1000);
  }
  const width = Math.max(...[...by.keys()].map((k) => k.length));
  const lines = [`${'span'.padEnd(width)}   count  > 5 ms     p99     max   (ms)`];
  for (const [kind, list] of [...by].sort((a, b) => a[0].localeCompare(b[0]))) {
    const t = tail(list);
    const over = String(list.filter((ms) => ms > 5).length).padStart(7);
    lines.push(`${kind.padEnd(width)} ${String(t.n).padStart(7)} ${over} ${f(t.p99)} ${f(t.max)}`);
  }
  return lines.join('\n');
}
