/**
 * Finds a cycle in a directed graph given as (from, to) edges, returning the
 * path that closes it (first node repeated at the end), or null. The search
 * starts from `first` when given: the task just edited, so a cycle through it
 * is named from it.
 */
export function findCycle(edges: readonly [number, number][], first?: number): number[] | null {
  const next = new Map<number, number[]>();
  for (const [a, b] of edges) next.set(a, [...(next.get(a) ?? []), b]);
  const state = new Map<number, 'open' | 'done'>();
  const stack: number[] = [];
  const visit = (n: number): number[] | null => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of next.get(n) ?? []) {
      const s = state.get(m);
      if (s === 'open') return [...stack.slice(stack.indexOf(m)), m];
      if (s === undefined) {
        const found = visit(m);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(n, 'done');
    return null;
  };
  for (const n of first === undefined ? next.keys() : [first, ...next.keys()]) {
    if (state.get(n) === undefined) {
      const found = visit(n);
      if (found) return found;
    }
  }
  return null;
}
