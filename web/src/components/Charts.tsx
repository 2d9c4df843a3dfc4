/** Hand-written SVG charts: stacked bars over days, horizontal bars, a sparkline. */

export interface Series {
  name: string;
  color: string;
  values: number[];
}

const W = 640;
const H = 220;
const PAD = { l: 44, r: 8, t: 10, b: 28 };

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function StackedBars({
  labels,
  series,
  format = (v) => String(v),
  title,
}: {
  labels: string[];
  series: Series[];
  format?: (v: number) => string;
  title: string;
}) {
  const totals = labels.map((_, i) => series.reduce((a, s) => a + (s.values[i] ?? 0), 0));
  const max = niceMax(Math.max(0, ...totals));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const bw = labels.length > 0 ? iw / labels.length : iw;
  const y = (v: number) => PAD.t + ih - (v / max) * ih;
  const every = Math.max(1, Math.ceil(labels.length / 8));
  return (
    <figure className="chart">
      <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-label={title}>
        {[0, 0.5, 1].map((f) => (
          <g key={f}>
            <line x1={PAD.l} x2={W - PAD.r} y1={y(max * f)} y2={y(max * f)} className="grid" />
            <text x={PAD.l - 6} y={y(max * f) + 4} textAnchor="end" className="axis">
              {format(max * f)}
            </text>
          </g>
        ))}
        {labels.map((l, i) => {
          let acc = 0;
          return (
            <g key={l}>
              {series.map((s) => {
                const v = s.values[i] ?? 0;
                if (v <= 0) return null;
                const top = y(acc + v);
                const h = y(acc) - top;
                acc += v;
                return (
                  <rect
                    key={s.name}
                    x={PAD.l + i * bw + bw * 0.15}
                    width={Math.max(1, bw * 0.7)}
                    y={top}
                    height={h}
                    fill={s.color}
                  >
                    <title>{`${l} · ${s.name}: ${format(v)}`}</title>
                  </rect>
                );
              })}
              {i % every === 0 ? (
                <text x={PAD.l + i * bw + bw / 2} y={H - 8} textAnchor="middle" className="axis">
                  {l.slice(5)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <Legend series={series} />
    </figure>
  );
}

export function Legend({ series }: { series: { name: string; color: string }[] }) {
  return (
    <figcaption className="legend">
      {series.map((s) => (
        <span key={s.name}>
          <i style={{ background: s.color }} /> {s.name}
        </span>
      ))}
    </figcaption>
  );
}

/** One bar per row, e.g. an agent's p50/p90/p99. */
export function HBars({
  rows,
  format,
  max: fixedMax,
}: {
  rows: { label: string; bars: { name: string; value: number; color: string }[] }[];
  format: (v: number) => string;
  /** The full-width value (100 for percentages); the largest value otherwise. */
  max?: number;
}) {
  const max = fixedMax ?? Math.max(1, ...rows.flatMap((r) => r.bars.map((b) => b.value)));
  return (
    <div className="hbars">
      {rows.map((r) => (
        <div key={r.label} className="hbar-row">
          <div className="hbar-label">{r.label}</div>
          <div className="hbar-bars">
            {r.bars.map((b) => (
              <div key={b.name} className="hbar-line">
                <span
                  className="hbar"
                  style={{ width: `${(b.value / max) * 100}%`, background: b.color }}
                />
                <span className="hbar-value">
                  {b.name} {format(b.value)}
                </span>
              </div>
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}

export function Sparkline({ values, label }: { values: number[]; label: string }) {
  if (values.length < 2) return <div className="sparkline muted">{label}</div>;
  const w = 240;
  const h = 48;
  const max = Math.max(1, ...values);
  const pts = values
    .map((v, i) => `${(i / Math.max(1, values.length - 1)) * w},${h - 4 - (v / max) * (h - 8)}`)
    .join(' ');
  return (
    <svg viewBox={`0 0 ${w} ${h}`} className="sparkline" role="img" aria-label={label}>
      <polyline points={pts} fill="none" stroke="var(--accent)" strokeWidth="2" />
    </svg>
  );
}
