import type { MouseEvent, ReactNode } from 'react';
import { type Block, type Inline, type ListItem, parseMarkdown } from '../lib/markdown';
import { navigate } from '../router';

/**
 * The board's markdown subset (parsed by lib/markdown.ts) drawn as React
 * elements. Text never becomes HTML, so task bodies and agent output cannot
 * inject markup.
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
      {blocks(parseMarkdown(text))}
    </div>
  );
}

function blocks(list: Block[]): ReactNode[] {
  return list.map(block);
}

function block(b: Block, key: number): ReactNode {
  switch (b.kind) {
    case 'heading': {
      // Markdown's `#` is a section inside a card or dialog, so it starts at h3.
      const Tag = `h${Math.min(6, b.level + 2)}` as 'h3';
      return <Tag key={key}>{inlines(b.children)}</Tag>;
    }
    case 'paragraph':
      return <p key={key}>{inlines(b.children)}</p>;
    case 'list': {
      const items = b.items.map(listItem);
      return b.ordered ? <ol key={key}>{items}</ol> : <ul key={key}>{items}</ul>;
    }
    case 'quote':
      return <blockquote key={key}>{blocks(b.children)}</blockquote>;
    case 'code':
      return (
        <pre key={key}>
          <code>{b.text}</code>
        </pre>
      );
    case 'rule':
      return <hr key={key} />;
  }
}

function listItem(item: ListItem, key: number): ReactNode {
  return (
    <li key={key}>
      {item.checked === undefined ? (
        inlines(item.children)
      ) : (
        <>
          <input type="checkbox" checked={item.checked} readOnly disabled />{' '}
          {inlines(item.children)}
        </>
      )}
    </li>
  );
}

function inlines(list: Inline[]): ReactNode[] {
  return list.map(inline);
}

function inline(n: Inline, key: number): ReactNode {
  switch (n.kind) {
    case 'text':
      return n.text;
    case 'code':
      return <code key={key}>{n.text}</code>;
    case 'bold':
      return <strong key={key}>{inlines(n.children)}</strong>;
    case 'italic':
      return <em key={key}>{inlines(n.children)}</em>;
    case 'link':
      return (
        <a key={key} href={n.href} target="_blank" rel="noopener noreferrer nofollow">
          {n.text}
        </a>
      );
    case 'task':
      return (
        <a key={key} href={`/tasks/${n.id}`} data-internal="1">
          {n.id}
        </a>
      );
    case 'mention':
      return (
        <span key={key} className="mention">
          {`@${n.name}`}
        </span>
      );
  }
}
