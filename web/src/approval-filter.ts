import { api } from './api';
import type { Approval, Task, TaskPage, TaskStatus } from './types';

/**
 * The board's "Needs approval" filter. The task list has no such filter: the
 * pending requests name their tasks, which are few, so the board asks for
 * those and lays them out in their columns itself.
 */

interface Snapshot {
  at: number;
  tasks: Promise<Task[]>;
}
let last: Snapshot | null = null;
/** One snapshot serves every column of one load (they ask at once). */
const FRESH_MS = 1000;

async function load(): Promise<Task[]> {
  const r = await api<{ items: Approval[] }>('/approvals?state=pending&limit=500');
  const ids = [...new Set(r.items.map((a) => a.task))];
  return Promise.all(ids.map((id) => api<Task>(`/tasks/${id}`)));
}

export function tasksWaitingOnApproval(): Promise<Task[]> {
  const now = Date.now();
  if (!last || now - last.at > FRESH_MS) last = { at: now, tasks: load() };
  const mine = last;
  mine.tasks.catch(() => {
    if (last === mine) last = null;
  });
  return mine.tasks;
}

export interface TextFilter {
  q: string;
  agent: string;
  label: string;
}

function matches(t: Task, f: TextFilter): boolean {
  if (f.agent && t.agent !== f.agent) return false;
  if (f.label && !t.labels.includes(f.label)) return false;
  const q = f.q.toLowerCase();
  return !q || t.title.toLowerCase().includes(q) || t.body.toLowerCase().includes(q);
}

/** A page of one column, as the server's list would answer it, from the waiting tasks. */
export function approvalPage(
  tasks: Task[],
  status: TaskStatus,
  f: TextFilter,
  offset: number,
  limit: number,
): TaskPage {
  const shown = tasks.filter((t) => matches(t, f));
  const counts: Partial<Record<TaskStatus, number>> = {};
  for (const t of shown) counts[t.status] = (counts[t.status] ?? 0) + 1;
  const col = shown.filter((t) => t.status === status);
  const items = col.slice(offset, offset + limit);
  const next = offset + items.length;
  return { items, total: col.length, offset, nextOffset: next < col.length ? next : null, counts };
}
