import type { CSSProperties, ReactNode } from 'react';
import { type AnsiStyle, ansiSegments, isPlain } from '../lib/ansi';

function css(s: AnsiStyle): CSSProperties {
  return {
    color: s.fg,
    background: s.bg,
    fontWeight: s.bold ? 700 : undefined,
    opacity: s.dim ? 0.7 : undefined,
    fontStyle: s.italic ? 'italic' : undefined,
    textDecoration: s.underline ? 'underline' : undefined,
  };
}

/** One line of terminal output; `start` is the style carried over from earlier lines. */
export function ansiLine(
  line: string,
  start: AnsiStyle = {},
): { nodes: ReactNode[]; end: AnsiStyle } {
  const { segments, end } = ansiSegments(line, start);
  const nodes = segments.map((seg, key) =>
    isPlain(seg.style) ? (
      seg.text
    ) : (
      // biome-ignore lint/suspicious/noArrayIndexKey: segments of one line never reorder
      <span key={key} style={css(seg.style)}>
        {seg.text}
      </span>
    ),
  );
  return { nodes, end };
}

export type { AnsiStyle };
