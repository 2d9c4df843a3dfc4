import { USER_MOVES } from '../../src/contract/vocabulary.js';
import { api, errorText } from './api';
import { approvalPage, tasksWaitingOnApproval } from './approval-filter';
import {
  ACTIVE_RUN_STATES,
  type Card,
  COLUMNS,
  type Task,
  type TaskPage,
  type TaskStatus,
} from './types';

/**
 * The board's data outside React: each column is a sparse window onto the
 * server's list (pages of PAGE cards loaded as they scroll into view), plus the
 * run summary of each loaded card. Live events reload the loaded pages.
 */

/** Cards per page: a tall screen shows about six per column, so one page covers the first view. */
export const PAGE = 40;

export interface Filter {
  q: string;
  agent: string;
  label: string;
  showCancelled: boolean;
  /** Only cards with a tool use waiting for a person's decision. */
  needsApproval: boolean;
}

export interface Column {
  status: TaskStatus;
  total: number;
  items: (Task | undefined)[];
  pages: Set<number>;
  loading: boolean;
  error: string | null;
}

const emptyColumn = (status: TaskStatus): Column => ({
  status,
  total: 0,
  items: [],
  pages: new Set(),
  loading: true,
  error: null,
});

export { canMove } from './lib/moves';
/** Where a user may move a card (the server has the last word; this only guides the drag). */
export { USER_MOVES };

export class BoardData {
  filter: Filter = { q: '', agent: '', label: '', showCancelled: false, needsApproval: false };
  columns = new Map<TaskStatus, Column>();
  cards = new Map<string, Card>();
  /** Set once the first load answered: the board can tell "empty" from "loading". */
  loaded = false;
  error: string | null = null;
  version = 0;
  private generation = 0;
  private inFlight = new Set<string>();
  private readonly listeners = new Set<() => void>();

  constructor() {
    this.resetColumns();
  }

  get statuses(): TaskStatus[] {
    return this.filter.showCancelled ? [...COLUMNS, 'cancelled'] : [...COLUMNS];
  }

  subscribe(l: () => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private changed(): void {
    this.version++;
    for (const l of this.listeners) l();
  }

  private resetColumns(): void {
    this.columns = new Map(this.statuses.map((s) => [s, emptyColumn(s)]));
  }

  setFilter(f: Partial<Filter>): void {
    this.filter = { ...this.filter, ...f };
    this.generation++;
    this.inFlight.clear();
    this.resetColumns();
    this.changed();
    void this.loadAll();
  }

  private query(status: TaskStatus, offset: number): string {
    const q = new URLSearchParams({ status, limit: String(PAGE), offset: String(offset) });
    if (this.filter.q) q.set('q', this.filter.q);
    if (this.filter.agent) q.set('agent', this.filter.agent);
    if (this.filter.label) q.set('label', this.filter.label);
    return `/tasks?${q}`;
  }

  /** First pages of every column. */
  async loadAll(): Promise<void> {
    await Promise.all(this.statuses.map((s) => this.loadPage(s, 0)));
  }

  private async fetchPage(status: TaskStatus, offset: number): Promise<TaskPage> {
    if (this.filter.needsApproval) {
      return approvalPage(await tasksWaitingOnApproval(), status, this.filter, offset, PAGE);
    }
    return api<TaskPage>(this.query(status, offset));
  }

  /** Run summaries arrive after the cards: the cards show at once, their run line a moment later. */
  private cardsFor(items: Task[]): void {
    this.loadCards(items.map((t) => t.id)).then(
      () => this.changed(),
      () => {},
    );
  }

  async loadPage(status: TaskStatus, offset: number): Promise<void> {
    const key = `${status}:${offset}`;
    if (this.inFlight.has(key)) return;
    this.inFlight.add(key);
    const gen = this.generation;
    try {
      const page = await this.fetchPage(status, offset);
      if (gen !== this.generation) return;
      const col = this.columns.get(status);
      if (!col) return;
      this.place(col, page, offset);
      this.cardsFor(page.items);
      this.loaded = true;
      this.error = null;
    } catch (e) {
      if (gen !== this.generation) return;
      const col = this.columns.get(status);
      if (col) {
        col.loading = false;
        col.error = errorText(e);
      }
      this.error = errorText(e);
    } finally {
      this.inFlight.delete(key);
      this.changed();
    }
  }

  private place(col: Column, page: TaskPage, offset: number): void {
    col.total = page.counts[col.status] ?? page.total;
    if (col.items.length !== col.total) col.items.length = col.total;
    page.items.forEach((t, i) => {
      col.items[offset + i] = t;
    });
    col.pages.add(offset);
    col.loading = false;
    col.error = null;
  }

  /** Loads the pages covering rows first..last of a column, if not loaded yet. */
  ensureRange(status: TaskStatus, first: number, last: number): void {
    const col = this.columns.get(status);
    if (!col) return;
    for (let p = Math.floor(first / PAGE) * PAGE; p <= last; p += PAGE) {
      if (!col.pages.has(p) && p < col.total) void this.loadPage(status, p);
    }
  }

  /** Reloads every loaded page (after live events): positions may have shifted. */
  async refresh(): Promise<void> {
    const gen = this.generation;
    const work = this.statuses.map(async (s) => {
      const col = this.columns.get(s);
      const pages = col && col.pages.size > 0 ? [...col.pages] : [0];
      const got = await Promise.all(
        pages.map((p) => this.fetchPage(s, p).then((r) => [p, r] as const)),
      );
      return [s, got] as const;
    });
    try {
      const results = await Promise.all(work);
      if (gen !== this.generation) return;
      for (const [s, got] of results) {
        const col = emptyColumn(s);
        for (const [p, page] of got) this.place(col, page, p);
        this.columns.set(s, col);
      }
      this.cardsFor(results.flatMap(([, got]) => got.flatMap(([, page]) => page.items)));
      this.loaded = true;
      this.error = null;
    } catch (e) {
      this.error = errorText(e);
    }
    this.changed();
  }

  async loadCards(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 200) {
      const chunk = ids.slice(i, i + 200);
      if (chunk.length === 0) continue;
      const r = await api<{ items: Card[] }>(`/cards?task=${chunk.join(',')}`);
      for (const c of r.items) this.cards.set(c.task, c);
    }
  }

  /** Run summaries of the cards with a live run (their last-output age moves on). */
  async refreshActiveCards(): Promise<void> {
    const ids = [...this.cards.values()]
      .filter((c) => c.run && ACTIVE_RUN_STATES.includes(c.run.state))
      .map((c) => c.task);
    if (ids.length === 0) return;
    try {
      await this.loadCards(ids);
      this.changed();
    } catch {
      // The next event or tick tries again.
    }
  }

  findIndex(status: TaskStatus, id: string): number {
    return this.columns.get(status)?.items.findIndex((t) => t?.id === id) ?? -1;
  }

  /**
   * Moves a card on screen at once, then asks the server. `index` counts the
   * target column without the moved card. On refusal the board reloads.
   */
  async move(task: Task, to: TaskStatus, index: number): Promise<void> {
    const from = this.columns.get(task.status);
    const target = this.columns.get(to);
    if (from && target) {
      const at = from.items.findIndex((t) => t?.id === task.id);
      if (at >= 0) {
        from.items.splice(at, 1);
        from.total--;
      }
      target.items.splice(Math.min(index, target.items.length), 0, { ...task, status: to });
      if (from !== target || at < 0) target.total++;
      // Loaded pages below the change are off by one now: reload them with the rest.
      this.changed();
    }
    try {
      await api<Task>(`/tasks/${task.id}/move`, {
        method: 'POST',
        json: { status: to, position: index },
      });
    } finally {
      await this.refresh();
    }
  }
}
