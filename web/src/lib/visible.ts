/**
 * Makes characters a person cannot see visible, for text they must judge
 * before it runs (a command, a file path): control characters, zero-width
 * and bidirectional-formatting characters, invisible "tag" characters.
 * A right-to-left override (U+202E) can make `rm -rf ~ #` read as something
 * else; shown as ⟨U+202E⟩ it cannot. Newlines and tabs stay as they are.
 */

export interface VisibleSegment {
  text: string;
  /** Set when `text` stands for an invisible character: its code point, e.g. U+202E. */
  hidden?: string;
}

// C0 controls but tab and newline, DEL and C1, soft hyphen, Arabic letter mark, Hangul fillers,
// Mongolian vowel separator, zero-width and direction marks, line/paragraph separators, bidi
// embeddings, overrides and isolates, word joiner and invisible operators, BOM, interlinear
// annotation, tag characters and the variation selectors supplement.
const HIDDEN = new RegExp(
  [
    '[\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F\\u00AD\\u061C\\u115F\\u1160\\u180E',
    '\\u200B-\\u200F\\u2028-\\u202E\\u2060-\\u206F\\u3164\\uFEFF\\uFFA0\\uFFF9-\\uFFFB',
    '\\u{E0000}-\\u{E007F}\\u{E0100}-\\u{E01EF}]',
  ].join(''),
  'gu',
);

function codePoint(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `text` cut into plain runs and single invisible characters (each with its code point). */
export function visibleSegments(text: string): VisibleSegment[] {
  const out: VisibleSegment[] = [];
  let last = 0;
  for (const m of text.matchAll(HIDDEN)) {
    const at = m.index ?? 0;
    if (at > last) out.push({ text: text.slice(last, at) });
    out.push({ text: m[0], hidden: codePoint(m[0]) });
    last = at + m[0].length;
  }
  if (last < text.length || out.length === 0) out.push({ text: text.slice(last) });
  return out;
}

/** `text` with each invisible character written as ⟨U+XXXX⟩. */
export function visibleText(text: string): string {
  return visibleSegments(text)
    .map((s) => (s.hidden ? `⟨${s.hidden}⟩` : s.text))
    .join('');
}

/** Whether `text` holds a character `visibleText` would mark. */
export function hasHidden(text: string): boolean {
  return visibleSegments(text).some((s) => s.hidden !== undefined);
}
