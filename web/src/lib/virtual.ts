/**
 * The virtual list's arithmetic: row offsets as prefix sums of heights, the
 * row under a pixel, the rows to draw, and where to scroll to show a row.
 * Pure (components/VirtualList.tsx does the DOM); unit-tested under Node.
 */

/** offsets[i] is row i's top; offsets[count] the content's height. */
export function rowOffsets(
  count: number,
  rowHeight: number,
  measured?: { get(i: number): number | undefined },
  estimate?: (i: number) => number,
): Float64Array {
  const o = new Float64Array(count + 1);
  for (let i = 0; i < count; i++) {
    const h = measured ? (measured.get(i) ?? (estimate ? estimate(i) : rowHeight)) : rowHeight;
    o[i + 1] = (o[i] ?? 0) + h;
  }
  return o;
}

/** The row at content offset `y` (clamped to the rows there are); 0 for an empty list. */
export function rowAt(offsets: Float64Array, y: number): number {
  const count = offsets.length - 1;
  let lo = 0;
  let hi = Math.max(0, count - 1);
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if ((offsets[mid] ?? 0) <= y) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** The rows to draw for a viewport: those in view and `overscan` more each side; last < first when none. */
export function visibleRange(
  offsets: Float64Array,
  scrollTop: number,
  viewport: number,
  overscan: number,
): { first: number; last: number } {
  const count = offsets.length - 1;
  if (count === 0) return { first: 0, last: -1 };
  return {
    first: Math.max(0, rowAt(offsets, scrollTop) - overscan),
    last: Math.min(count - 1, rowAt(offsets, scrollTop + viewport) + overscan),
  };
}

/** The scrollTop that shows row `i` whole, moving as little as it can; unchanged when it is in view. */
export function revealRow(
  offsets: Float64Array,
  i: number,
  scrollTop: number,
  viewport: number,
): number {
  const top = offsets[i] ?? 0;
  const bottom = offsets[i + 1] ?? top;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewport) return bottom - viewport;
  return scrollTop;
}
