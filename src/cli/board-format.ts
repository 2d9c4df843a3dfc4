import type { TaskView } from '../app/views.js';
import { TASK_STATUSES, type TaskStatus } from '../domain/task.js';
import { paint, type Style, truncate } from './output.js';

const TITLES: Record<TaskStatus, string> = {
  backlog: 'Backlog',
  todo: 'Todo',
  in_progress: 'In Progress',
  review: 'Review',
  done: 'Done',
  blocked: 'Blocked',
  cancelled: 'Cancelled',
};

const COLUMN_STYLE: Record<TaskStatus, Style> = {
  backlog: 'gray',
  todo: 'blue',
  in_progress: 'yellow',
  review: 'magenta',
  done: 'green',
  blocked: 'red',
  cancelled: 'gray',
};

const PRIORITY_STYLE: Record<string, Style> = {
  urgent: 'red',
  high: 'yellow',
  medium: 'dim',
  low: 'gray',
};

export interface BoardFormatOptions {
  color: boolean;
  width: number;
  counts: Record<string, number>;
  statuses: readonly TaskStatus[];
  /** Cards shown per column before "… and N more". */
  perColumn: number;
}

/**
 * The board in a terminal: one section per column with its count, one line
 * per card. Sections read better than side-by-side columns in 80 columns.
 */
export function formatBoard(tasks: TaskView[], o: BoardFormatOptions): string {
  const c = paint(o.color);
  const lines: string[] = [];
  for (const status of TASK_STATUSES) {
    if (!o.statuses.includes(status)) continue;
    const cards = tasks.filter((t) => t.status === status);
    const total = o.counts[status] ?? cards.length;
    lines.push(c(COLUMN_STYLE[status], c('bold', `${TITLES[status]} (${total})`)));
    if (total === 0) lines.push(c('dim', '  (empty)'));
    for (const t of cards.slice(0, o.perColumn))
      lines.push(`  ${formatCard(t, o.width - 2, o.color)}`);
    const hidden = total - Math.min(cards.length, o.perColumn);
    if (hidden > 0) lines.push(c('dim', `  … and ${hidden} more (--status ${status} --limit N)`));
    lines.push('');
  }
  return lines.join('\n');
}

export function formatCard(t: TaskView, width: number, color: boolean): string {
  const c = paint(color);
  const id = t.id.padEnd(6);
  const prio = t.priority.padEnd(6);
  const agent = (t.agent ?? '-').padEnd(8);
  const labels = t.labels.length > 0 ? ` [${t.labels.join(', ')}]` : '';
  // Blocked: what went wrong. Todo: why it cannot start by itself (the Todo monitor).
  const reason =
    (t.status === 'blocked' || t.status === 'todo') && t.statusReason
      ? ` — ${t.statusReason.split('\n')[0]}`
      : '';
  const fixed = id.length + prio.length + agent.length + 3;
  const title = truncate(`${t.title}${labels}${reason}`, Math.max(10, width - fixed));
  return `${c('bold', id)} ${c(PRIORITY_STYLE[t.priority] ?? 'dim', prio)} ${c('cyan', agent)} ${title}`;
}

export function columnTitle(status: TaskStatus): string {
  return TITLES[status];
}
