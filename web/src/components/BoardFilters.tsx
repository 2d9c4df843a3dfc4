import { useEffect, useState } from 'react';
import type { BoardData } from '../board-data';

/** Search, agent, label, needs-approval and show-cancelled filters; text inputs are debounced into the model. */
export function FilterBar({ data, agents }: { data: BoardData; agents: string[] }) {
  const [q, setQ] = useState(data.filter.q);
  const [label, setLabel] = useState(data.filter.label);
  // "Clear filters" and the like change the filter from outside the inputs.
  useEffect(() => setQ(data.filter.q), [data.filter.q]);
  useEffect(() => setLabel(data.filter.label), [data.filter.label]);
  useEffect(() => {
    if (q === data.filter.q) return;
    const t = setTimeout(() => data.setFilter({ q: q.trim() }), 250);
    return () => clearTimeout(t);
  }, [q, data]);
  useEffect(() => {
    if (label === data.filter.label) return;
    const t = setTimeout(() => data.setFilter({ label: label.trim() }), 250);
    return () => clearTimeout(t);
  }, [label, data]);
  return (
    <div className="filters">
      <input
        type="search"
        placeholder="Search titles and bodies"
        aria-label="Search"
        value={q}
        onChange={(e) => setQ(e.target.value)}
      />
      <select
        aria-label="Agent"
        value={data.filter.agent}
        onChange={(e) => data.setFilter({ agent: e.target.value })}
      >
        <option value="">All agents</option>
        {agents.map((a) => (
          <option key={a} value={a}>
            {a}
          </option>
        ))}
      </select>
      <input
        type="text"
        placeholder="Label"
        aria-label="Label"
        value={label}
        onChange={(e) => setLabel(e.target.value)}
        className="label-filter"
      />
      <label className="check">
        <input
          type="checkbox"
          checked={data.filter.needsApproval}
          onChange={(e) => data.setFilter({ needsApproval: e.target.checked })}
        />{' '}
        Needs approval
      </label>
      <label className="check">
        <input
          type="checkbox"
          checked={data.filter.showCancelled}
          onChange={(e) => data.setFilter({ showCancelled: e.target.checked })}
        />{' '}
        Cancelled
      </label>
    </div>
  );
}
