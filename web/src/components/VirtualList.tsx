import {
  type CSSProperties,
  type ReactNode,
  type Ref,
  useEffect,
  useImperativeHandle,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from 'react';
import { revealRow, rowOffsets, visibleRange } from '../lib/virtual';

export interface VirtualHandle {
  element: HTMLElement | null;
  scrollToIndex(i: number): void;
}

interface Props {
  count: number;
  /** Fixed row height, or the first guess when `measure` is set. */
  rowHeight: number;
  /** Rows differ in height: measure each once rendered. */
  measure?: boolean;
  /** The guess for a row not measured yet (`rowHeight` otherwise). */
  estimate?: (index: number) => number;
  render: (index: number) => ReactNode;
  rowKey?: (index: number) => string | number;
  /** Keep the view at the bottom while new rows arrive, unless the user scrolled up. */
  followTail?: boolean;
  overscan?: number;
  className?: string;
  style?: CSSProperties;
  onRange?: (first: number, last: number) => void;
  handle?: Ref<VirtualHandle>;
  label?: string;
  /** Drawn over the rows, in content coordinates (a drop line). */
  overlay?: ReactNode;
}

/**
 * Renders only the rows in view (plus `overscan`), so a list of 100k rows
 * costs what a screenful does. Offsets are prefix sums of known heights.
 */
export function VirtualList(p: Props) {
  const ref = useRef<HTMLElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(600);
  const heights = useRef(new Map<number, number>());
  const [version, setVersion] = useState(0);
  const atBottom = useRef(true);
  const overscan = p.overscan ?? 6;

  const offsets = useMemo(() => {
    void version;
    return rowOffsets(p.count, p.rowHeight, p.measure ? heights.current : undefined, p.estimate);
  }, [p.count, p.rowHeight, p.measure, p.estimate, version]);
  const total = offsets[p.count] ?? 0;
  const { first, last } = visibleRange(offsets, scrollTop, viewport, overscan);

  useImperativeHandle(
    p.handle,
    () => ({
      element: ref.current,
      scrollToIndex(i: number) {
        const el = ref.current;
        if (!el) return;
        const to = revealRow(offsets, i, el.scrollTop, el.clientHeight);
        if (to !== el.scrollTop) el.scrollTop = to;
      },
    }),
    [offsets],
  );

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const ro = new ResizeObserver(() => setViewport(el.clientHeight || 600));
    ro.observe(el);
    setViewport(el.clientHeight || 600);
    return () => ro.disconnect();
  }, []);

  const onRange = p.onRange;
  useEffect(() => {
    if (last >= first) onRange?.(first, last);
  }, [first, last, onRange]);

  // Measure the rows on screen; a changed height moves the rows below it.
  useLayoutEffect(() => {
    if (!p.measure || !ref.current) return;
    let changed = false;
    for (const node of ref.current.querySelectorAll<HTMLElement>('[data-vrow]')) {
      const i = Number(node.dataset.vrow);
      const h = node.offsetHeight;
      if (h > 0 && heights.current.get(i) !== h) {
        heights.current.set(i, h);
        changed = true;
      }
    }
    if (changed) setVersion((v) => v + 1);
  });

  // After every render: new rows keep a list that was at its bottom at its bottom.
  useLayoutEffect(() => {
    const el = ref.current;
    if (
      p.followTail &&
      el &&
      atBottom.current &&
      el.scrollTop < el.scrollHeight - el.clientHeight
    ) {
      el.scrollTop = el.scrollHeight;
    }
  });

  const rows: ReactNode[] = [];
  for (let i = first; i <= last; i++) {
    rows.push(
      <div
        key={p.rowKey ? p.rowKey(i) : i}
        data-vrow={i}
        style={{
          position: 'absolute',
          top: offsets[i] ?? 0,
          left: 0,
          right: 0,
          ...(p.measure ? {} : { height: p.rowHeight }),
        }}
      >
        {p.render(i)}
      </div>,
    );
  }

  return (
    <section
      ref={ref}
      className={p.className}
      style={{ overflow: 'auto', position: 'relative', ...p.style }}
      aria-label={p.label}
      onScroll={(e) => {
        const el = e.currentTarget;
        atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 40;
        setScrollTop(el.scrollTop);
      }}
    >
      <div style={{ height: total, position: 'relative' }}>
        {rows}
        {p.overlay}
      </div>
    </section>
  );
}
