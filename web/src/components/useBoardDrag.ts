import {
  type KeyboardEvent,
  type MouseEvent as ReactMouseEvent,
  type PointerEvent as ReactPointerEvent,
  useCallback,
  useRef,
  useState,
} from 'react';
import { errorText } from '../api';
import type { BoardData } from '../board-data';
import { planDrop, slotAt } from '../lib/moves';
import { navigate } from '../router';
import { STATUS_LABEL, type Task, type TaskStatus, taskStatusOf } from '../types';
import { SLOT } from './BoardColumn';
import type { VirtualHandle } from './VirtualList';

export interface Target {
  status: TaskStatus;
  /** Insertion index in the column as shown (the moved card included). */
  index: number;
}

export interface Drag {
  task: Task;
  from: TaskStatus;
  fromIndex: number;
  target: Target | null;
  via: 'pointer' | 'keyboard';
  x: number;
  y: number;
}

/**
 * Moving cards on the board: pointer drag-and-drop and the keyboard equivalent, plus card
 * clicks and arrow-key focus. Handlers are delegated from the board element to its cards.
 */
export function useBoardDrag(data: BoardData, onError: (m: string) => void) {
  const [drag, setDrag] = useState<Drag | null>(null);
  const [announce, setAnnounce] = useState('');
  const dragRef = useRef<Drag | null>(null);
  dragRef.current = drag;
  const justDragged = useRef(false);
  const lists = useRef(new Map<TaskStatus, VirtualHandle | null>());
  const focusCardRef = useRef<(status: TaskStatus, index: number) => void>(() => {});

  const drop = useCallback(
    (d: Drag) => {
      setDrag(null);
      const t = d.target;
      if (!t) return;
      const plan = planDrop(d.task.id, d.from, d.fromIndex, t.status, t.index);
      if (plan.kind === 'stay') return;
      if (plan.kind === 'refused') {
        onError(plan.message);
        return;
      }
      const index = plan.index;
      setAnnounce(`${d.task.id} moved to ${STATUS_LABEL[t.status]}, position ${index + 1}`);
      data
        .move(d.task, t.status, index)
        .then(() => {
          // The keyboard user keeps the card they moved in focus, at its new place.
          if (d.via !== 'keyboard') return;
          const at = data.findIndex(t.status, d.task.id);
          if (at >= 0) focusCardRef.current(t.status, at);
        })
        .catch((e: unknown) => onError(errorText(e)));
    },
    [data, onError],
  );

  const targetAt = useCallback(
    (x: number, y: number): Target | null => {
      for (const [status, h] of lists.current) {
        const el = h?.element;
        if (!el) continue;
        const r = el.getBoundingClientRect();
        if (x < r.left || x > r.right || y < r.top - 60 || y > r.bottom + 20) continue;
        const total = data.columns.get(status)?.total ?? 0;
        const index = slotAt(y - r.top + el.scrollTop, SLOT, total);
        return { status, index };
      }
      return null;
    },
    [data],
  );

  // Pointer drag (mouse and pen; touch scrolls, and moves cards from the task page).
  const onPointerDown = (e: ReactPointerEvent<HTMLDivElement>) => {
    if (e.pointerType === 'touch' || e.button !== 0) return;
    const el = (e.target as HTMLElement).closest<HTMLElement>('.card');
    if (!el) return;
    const id = el.dataset.taskId ?? '';
    const status = taskStatusOf(el.dataset.status);
    if (!status) return;
    const index = data.findIndex(status, id);
    const task = data.columns.get(status)?.items[index];
    if (!task) return;
    const start = { x: e.clientX, y: e.clientY };
    let started = false;
    const move = (ev: PointerEvent) => {
      if (!started && Math.hypot(ev.clientX - start.x, ev.clientY - start.y) < 6) return;
      started = true;
      ev.preventDefault();
      setDrag({
        task,
        from: status,
        fromIndex: index,
        via: 'pointer',
        x: ev.clientX,
        y: ev.clientY,
        target: targetAt(ev.clientX, ev.clientY),
      });
    };
    const up = () => {
      window.removeEventListener('pointermove', move);
      window.removeEventListener('pointerup', up);
      window.removeEventListener('pointercancel', up);
      if (!started) return;
      justDragged.current = true;
      setTimeout(() => {
        justDragged.current = false;
      }, 0);
      const d = dragRef.current;
      if (d) drop(d);
    };
    window.addEventListener('pointermove', move);
    window.addEventListener('pointerup', up);
    window.addEventListener('pointercancel', up);
  };

  const onClick = (e: ReactMouseEvent<HTMLDivElement>) => {
    if (justDragged.current) return;
    const el = (e.target as HTMLElement).closest<HTMLElement>('.card');
    if (el && !(e.target as HTMLElement).closest('a')) navigate(`/tasks/${el.dataset.taskId}`);
  };

  const statuses = data.statuses;
  const focusCard = (status: TaskStatus, index: number) => {
    const h = lists.current.get(status);
    h?.scrollToIndex(index);
    requestAnimationFrame(() => {
      h?.element
        ?.querySelector<HTMLElement>(`[data-vrow="${index}"] .card`)
        ?.focus({ preventScroll: true });
    });
  };

  focusCardRef.current = focusCard;

  // Keyboard: Space picks a card up, arrows move it, Space/Enter drop it, Escape cancels.
  const onKeyDown = (e: KeyboardEvent<HTMLDivElement>) => {
    const el = (e.target as HTMLElement).closest<HTMLElement>('.card');
    if (!el || e.target !== el) return;
    const id = el.dataset.taskId ?? '';
    const status = taskStatusOf(el.dataset.status);
    if (!status) return;
    const d = dragRef.current;
    if (d?.via === 'keyboard' && d.task.id === id) {
      const t = d.target ?? { status: d.from, index: d.fromIndex };
      let next: Target | null = null;
      const total = (s: TaskStatus) => data.columns.get(s)?.total ?? 0;
      if (e.key === 'ArrowUp') next = { ...t, index: Math.max(0, t.index - 1) };
      else if (e.key === 'ArrowDown')
        next = { ...t, index: Math.min(total(t.status), t.index + 1) };
      else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
        const at = statuses.indexOf(t.status) + (e.key === 'ArrowLeft' ? -1 : 1);
        const s = statuses[Math.max(0, Math.min(statuses.length - 1, at))] ?? t.status;
        next = { status: s, index: Math.min(t.index, total(s)) };
      } else if (e.key === ' ' || e.key === 'Enter') {
        e.preventDefault();
        drop(d);
        return;
      } else if (e.key === 'Escape') {
        e.preventDefault();
        setDrag(null);
        setAnnounce(`${id}: move cancelled`);
        return;
      }
      if (next) {
        e.preventDefault();
        setDrag({ ...d, target: next });
        lists.current.get(next.status)?.scrollToIndex(next.index);
        setAnnounce(`${STATUS_LABEL[next.status]}, position ${next.index + 1}`);
      }
      return;
    }
    const index = data.findIndex(status, id);
    if (e.key === ' ') {
      const task = data.columns.get(status)?.items[index];
      if (!task) return;
      e.preventDefault();
      setDrag({
        task,
        from: status,
        fromIndex: index,
        via: 'keyboard',
        x: 0,
        y: 0,
        target: { status, index },
      });
      setAnnounce(`Picked up ${id}. Arrow keys move it, Space or Enter drops it, Escape cancels.`);
    } else if (e.key === 'Enter') {
      navigate(`/tasks/${id}`);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      const total = data.columns.get(status)?.total ?? 0;
      const to = Math.max(0, Math.min(total - 1, index + (e.key === 'ArrowDown' ? 1 : -1)));
      focusCard(status, to);
    } else if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      const s = statuses[statuses.indexOf(status) + (e.key === 'ArrowLeft' ? -1 : 1)];
      if (s && (data.columns.get(s)?.total ?? 0) > 0) focusCard(s, 0);
    }
  };

  return { drag, announce, lists, onPointerDown, onClick, onKeyDown };
}
