import type { AgentEvent } from '../agents/events.js';

export interface UsageFigures {
  tokensIn: number;
  tokensOut: number;
  cacheRead: number;
  cacheWrite: number;
}

/** A session's running totals at the end of a run, stored on it for the next run in the session. */
export interface SessionTotals extends UsageFigures {
  costUsd: number | null;
}

/** What is kept across a server restart (beside the parse offset) to go on counting. */
export interface UsageState {
  added: UsageFigures;
  addedCost: number | null;
  /** The latest running totals the CLI reported for the session, if it reports them. */
  cumulative: UsageFigures | null;
  cumulativeCost: number | null;
}

const KEYS = ['tokensIn', 'tokensOut', 'cacheRead', 'cacheWrite'] as const;
const zero = (): UsageFigures => ({ tokensIn: 0, tokensOut: 0, cacheRead: 0, cacheWrite: 0 });

/**
 * A run's own usage and reported cost. Some CLIs report running totals for
 * the whole session (Claude's cost, Codex's usage): a resumed run subtracts
 * the totals the session had at the end of its previous run, so that task
 * and agent totals, sums of per-run figures, count every token once.
 */
export class RunUsage {
  private readonly s: UsageState;

  constructor(saved: UsageState | null) {
    this.s = saved ?? { added: zero(), addedCost: null, cumulative: null, cumulativeCost: null };
  }

  take(e: Extract<AgentEvent, { type: 'usage' | 'cost' }>): void {
    const session = e.scope === 'session';
    if (e.type === 'cost') {
      if (session) this.s.cumulativeCost = e.usd;
      else this.s.addedCost = (this.s.addedCost ?? 0) + e.usd;
      return;
    }
    if (session) {
      this.s.cumulative = {
        tokensIn: e.tokensIn,
        tokensOut: e.tokensOut,
        cacheRead: e.cacheRead,
        cacheWrite: e.cacheWrite,
      };
    } else for (const k of KEYS) this.s.added[k] += e[k];
  }

  /** This run's own figures, given the session's totals before it. */
  own(baseline: SessionTotals | null): UsageFigures & { reported: number | null } {
    const out = { ...this.s.added, reported: this.s.addedCost };
    const cum = this.s.cumulative;
    if (cum) for (const k of KEYS) out[k] += Math.max(0, cum[k] - (baseline?.[k] ?? 0));
    if (this.s.cumulativeCost !== null) {
      out.reported =
        (out.reported ?? 0) + Math.max(0, this.s.cumulativeCost - (baseline?.costUsd ?? 0));
    }
    return out;
  }

  state(): UsageState {
    return this.s;
  }
}

/** The session's totals once a run's own figures are added: the next resumed run's baseline. */
export function addToSession(
  baseline: SessionTotals | null,
  own: UsageFigures,
  cost: number | null,
): SessionTotals {
  const out: SessionTotals = { ...zero(), costUsd: baseline?.costUsd ?? null };
  for (const k of KEYS) out[k] = (baseline?.[k] ?? 0) + own[k];
  if (cost !== null) out.costUsd = (baseline?.costUsd ?? 0) + cost;
  return out;
}

/** Stored totals, read defensively (a row written by hand or by an older build). */
export function parseSessionTotals(text: string | null): SessionTotals | null {
  if (!text) return null;
  try {
    const o = JSON.parse(text) as Partial<SessionTotals>;
    const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    return {
      tokensIn: n(o.tokensIn),
      tokensOut: n(o.tokensOut),
      cacheRead: n(o.cacheRead),
      cacheWrite: n(o.cacheWrite),
      costUsd: typeof o.costUsd === 'number' ? o.costUsd : null,
    };
  } catch {
    return null;
  }
}
