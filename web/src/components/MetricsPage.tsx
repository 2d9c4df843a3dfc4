import { useEffect, useState } from 'react';
import { api } from '../api';
import { duration, usd } from '../format';
import { useAsync } from '../hooks';
import { HBars, Sparkline, StackedBars } from './Charts';

type Outcomes = {
  succeeded: number;
  failed: number;
  timed_out: number;
  cancelled: number;
  lost: number;
};

export interface Stats {
  since: string;
  days: number;
  queue: { queued: number; runnable: number };
  success: {
    overall: Outcomes & { ended: number; rate: number | null };
    byAgent: (Outcomes & { agent: string; ended: number; rate: number | null })[];
  };
  durations: { agent: string; runs: number; p50Ms: number; p90Ms: number; p99Ms: number }[];
  daily: (Outcomes & { day: string })[];
  cost: { day: string; agent: string; runs: number; costUsd: number }[];
}

const OUTCOME_COLORS: Record<keyof Outcomes, string> = {
  succeeded: 'var(--ok)',
  failed: 'var(--bad)',
  timed_out: 'var(--warn)',
  cancelled: 'var(--muted-2)',
  lost: 'var(--purple)',
};
const PALETTE = ['#4c78d8', '#e4894a', '#3aa37a', '#c75fb5', '#c9a227', '#5bb7c9', '#8a6fd8'];

const pct = (r: number | null) => (r === null ? '–' : `${Math.round(r * 100)}%`);

/** The last N days of every UTC day, oldest first, so empty days show as gaps. */
function dayRange(days: number): string[] {
  const out: string[] = [];
  const now = new Date();
  for (let i = days - 1; i >= 0; i--) {
    const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - i));
    out.push(d.toISOString().slice(0, 10));
  }
  return out;
}

export function MetricsPage() {
  const [days, setDays] = useState(14);
  const stats = useAsync(() => api<Stats>(`/stats?days=${days}`), [days]);
  const [queue, setQueue] = useState<number[]>([]);
  const reload = stats.reload;
  useEffect(() => {
    const t = setInterval(reload, 5000);
    return () => clearInterval(t);
  }, [reload]);
  const s = stats.data;
  useEffect(() => {
    if (s) setQueue((q) => [...q.slice(-59), s.queue.queued]);
  }, [s]);

  if (stats.error && !s) {
    return (
      <div className="page">
        <h1>Metrics</h1>
        <div className="state-box error" role="alert">
          Metrics could not load: {stats.error}{' '}
          <button type="button" onClick={reload}>
            Try again
          </button>
        </div>
      </div>
    );
  }
  if (!s) return <div className="page state-box">Loading metrics…</div>;
  const labels = dayRange(days);
  const byDay = new Map(s.daily.map((d) => [d.day, d]));
  const outcomes = (Object.keys(OUTCOME_COLORS) as (keyof Outcomes)[]).map((k) => ({
    name: k.replace('_', ' '),
    color: OUTCOME_COLORS[k],
    values: labels.map((d) => byDay.get(d)?.[k] ?? 0),
  }));
  const agents = [...new Set(s.cost.map((c) => c.agent))].sort();
  const cost = agents.map((a, i) => ({
    name: a,
    color: PALETTE[i % PALETTE.length] ?? '#888',
    values: labels.map((d) => s.cost.find((c) => c.day === d && c.agent === a)?.costUsd ?? 0),
  }));
  const empty = s.success.overall.ended === 0 && s.queue.queued === 0;

  return (
    <div className="page metrics" data-testid="metrics-page">
      <div className="page-head">
        <h1>Metrics</h1>
        <select aria-label="Period" value={days} onChange={(e) => setDays(Number(e.target.value))}>
          {[7, 14, 30, 90].map((d) => (
            <option key={d} value={d}>
              last {d} days
            </option>
          ))}
        </select>
      </div>
      {empty ? (
        <div className="state-box">
          No runs have ended in the last {days} days: figures appear once agents have worked on some
          cards.
        </div>
      ) : null}
      <div className="kpis">
        <div className="kpi">
          <div className="kpi-value" data-testid="success-rate">
            {pct(s.success.overall.rate)}
          </div>
          <div className="kpi-label">success rate ({s.success.overall.ended} ended runs)</div>
        </div>
        <div className="kpi">
          <div className="kpi-value">{s.queue.queued}</div>
          <div className="kpi-label">queued now ({s.queue.runnable} runnable)</div>
          <Sparkline
            values={queue}
            label="queue depth, sampled every 5 s while this page is open"
          />
        </div>
        <div className="kpi">
          <div className="kpi-value">{usd(s.cost.reduce((a, c) => a + c.costUsd, 0))}</div>
          <div className="kpi-label">cost, last {days} days</div>
        </div>
      </div>
      <div className="chart-grid">
        <section className="panel">
          <h2>Runs per day by outcome</h2>
          <StackedBars title="Runs per day by outcome" labels={labels} series={outcomes} />
        </section>
        <section className="panel">
          <h2>Cost per day per agent</h2>
          {cost.length === 0 ? (
            <p className="muted">No cost recorded in this period.</p>
          ) : (
            <StackedBars
              title="Cost per day per agent"
              labels={labels}
              series={cost}
              format={(v) => (v >= 1 ? `$${v.toFixed(0)}` : `$${v.toFixed(2)}`)}
            />
          )}
        </section>
        <section className="panel">
          <h2>Success rate by agent</h2>
          {s.success.byAgent.length === 0 ? (
            <p className="muted">No ended runs yet.</p>
          ) : (
            <HBars
              format={(v) => `${Math.round(v)}%`}
              max={100}
              rows={s.success.byAgent.map((a) => ({
                label: `${a.agent} (${a.ended})`,
                bars: [{ name: 'success', value: (a.rate ?? 0) * 100, color: 'var(--ok)' }],
              }))}
            />
          )}
        </section>
        <section className="panel">
          <h2>Duration percentiles</h2>
          {s.durations.length === 0 ? (
            <p className="muted">No finished runs yet.</p>
          ) : (
            <HBars
              format={duration}
              rows={s.durations.map((d) => ({
                label: `${d.agent} (${d.runs})`,
                bars: [
                  { name: 'p50', value: d.p50Ms, color: '#4c78d8' },
                  { name: 'p90', value: d.p90Ms, color: '#e4894a' },
                  { name: 'p99', value: d.p99Ms, color: '#c75fb5' },
                ],
              }))}
            />
          )}
        </section>
      </div>
    </div>
  );
}
