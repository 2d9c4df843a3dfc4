import type { MouseEvent, ReactNode } from 'react';
import { navigate } from '../router';

/**
 * A small markdown subset rendered to React elements: headings, paragraphs,
 * lists, quotes, fenced code, inline code, bold, italics, links and @mentions.
 * Text never becomes HTML, so task bodies and agent output cannot inject markup.
 */
export function Markdown({ text, className }: { text: string; className?: string }) {
  // Task links (T-12) stay in the page.
  const onClick = (e: MouseEvent<HTMLDivElement>) => {
    const a = (e.target as HTMLElement).closest<HTMLAnchorElement>('a[data-internal]');
    if (!a || e.button !== 0 || e.metaKey || e.ctrlKey) return;
    e.preventDefault();
    navigate(a.getAttribute('href') ?? '/');
  };
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents lint/a11y/noStaticElementInteractions: clicks on the links inside, which keep their own keyboard behaviour
    <div className={`md ${className ?? ''}`} onClick={onClick}>
      {blocks(text)}
    </div>
  );
}

function blocks(text: string): ReactNode[] {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const out: ReactNode[] = [];
  let i = 0;
  let key = 0;
  while (i < lines.length) {
    const line = lines[i] ?? '';
    const fence = /^\s*(```|~~~)(.*)$/.exec(line);
    if (fence) {
      const code: string[] = [];
      i++;
      while (i < lines.length && !(lines[i] ?? '').trim().startsWith(fence[1] ?? '```')) {
        code.push(lines[i] ?? '');
        i++;
      }
      i++;
      out.push(
        <pre key={key++}>
          <code>{code.join('\n')}</code>
        </pre>,
      );
      continue;
    }
    const heading = /^(#{1,6})\s+(.*)$/.exec(line);
    if (heading) {
      const level = Math.min(6, (heading[1] ?? '#').length + 2);
      const Tag = `h${level}` as 'h3';
      out.push(<Tag key={key++}>{inline(heading[2] ?? '')}</Tag>);
      i++;
      continue;
    }
    if (/^\s*([-*+]|\d+[.)])\s+/.test(line)) {
      const ordered = /^\s*\d/.test(line);
      const items: ReactNode[] = [];
      while (i < lines.length && /^\s*([-*+]|\d+[.)])\s+/.test(lines[i] ?? '')) {
        const item = (lines[i] ?? '').replace(/^\s*([-*+]|\d+[.)])\s+/, '');
        const task = /^\[( |x|X)\]\s+(.*)$/.exec(item);
        items.push(
          <li key={items.length}>
            {task ? (
              <>
                <input type="checkbox" checked={task[1] !== ' '} readOnly disabled />{' '}
                {inline(task[2] ?? '')}
              </>
            ) : (
              inline(item)
            )}
          </li>,
        );
        i++;
      }
      out.push(ordered ? <ol key={key++}>{items}</ol> : <ul key={key++}>{items}</ul>);
      continue;
    }
    if (/^\s*>/.test(line)) {
      const quoted: string[] = [];
      while (i < lines.length && /^\s*>/.test(lines[i] ?? '')) {
        quoted.push((lines[i] ?? '').replace(/^\s*>\s?/, ''));
        i++;
      }
      out.push(<blockquote key={key++}>{blocks(quoted.join('\n'))}</blockquote>);
      continue;
    }
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) {
      out.push(<hr key={key++} />);
      i++;
      continue;
    }
    if (!line.trim()) {
      i++;
      continue;
    }
    const para: string[] = [];
    while (
      i < lines.length &&
      (lines[i] ?? '').trim() &&
      !/^(#{1,6}\s|\s*```|\s*~~~|\s*>|\s*([-*+]|\d+[.)])\s+)/.test(lines[i] ?? '')
    ) {
      para.push(lines[i] ?? '');
      i++;
    }
    out.push(<p key={key++}>{inline(para.join('\n'))}</p>);
  }
  return out;
}

const INLINE =
  /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\*[^*\n]+\*|_[^_\n]+_)|(\[[^\]\n]+\]\([^)\s]+\))|(https?:\/\/[^\s<>()]+)|(@[a-z][a-z0-9_-]{0,39})|(\bT-\d+\b)/g;

/** Only http(s) and board-relative links are followed. */
function safeHref(href: string): string | null {
  if (/^https?:\/\//i.test(href)) return href;
  if (href.startsWith('/') && !href.startsWith('//')) return href;
  return null;
}

export function inline(text: string): ReactNode[] {
  const out: ReactNode[] = [];
  let last = 0;
  let key = 0;
  for (const m of text.matchAll(INLINE)) {
    const at = m.index ?? 0;
    if (at > last) out.push(text.slice(last, at));
    const s = m[0];
    if (m[1]) out.push(<code key={key++}>{s.slice(1, -1)}</code>);
    else if (m[2]) out.push(<strong key={key++}>{inline(s.slice(2, -2))}</strong>);
    else if (m[3]) out.push(<em key={key++}>{inline(s.slice(1, -1))}</em>);
    else if (m[4]) {
      const lm = /^\[([^\]]+)\]\(([^)]+)\)$/.exec(s);
      const href = safeHref(lm?.[2] ?? '');
      out.push(
        href ? (
          <a key={key++} href={href} target="_blank" rel="noopener noreferrer nofollow">
            {lm?.[1]}
          </a>
        ) : (
          s
        ),
      );
    } else if (m[5]) {
      out.push(
        <a key={key++} href={s} target="_blank" rel="noopener noreferrer nofollow">
          {s}
        </a>,
      );
    } else if (m[6]) {
      out.push(
        <span key={key++} className="mention">
          {s}
        </span>,
      );
    } else if (m[7]) {
      out.push(
        <a key={key++} href={`/tasks/${s}`} data-internal="1">
          {s}
        </a>,
      );
    }
    last = at + s.length;
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}
