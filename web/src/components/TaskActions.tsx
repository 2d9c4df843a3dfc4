import { useState } from 'react';
import { api } from '../api';
import { USER_MOVES } from '../board-data';
import { STATUS_LABEL, type Task, taskStatusOf } from '../types';

/** Runs an action on the task, then reloads it; a failure is reported as "<what>: <error>". */
export type Act = (what: string, f: () => Promise<unknown>) => Promise<void>;

export function ResumeButton({ task, act }: { task: Task; act: Act }) {
  const [open, setOpen] = useState(false);
  const [prompt, setPrompt] = useState('');
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)}>
        Resume…
      </button>
    );
  }
  return (
    <form
      className="resume"
      onSubmit={(e) => {
        e.preventDefault();
        void act('Resume', () =>
          api(`/tasks/${task.id}/runs`, { method: 'POST', json: { prompt: prompt.trim() } }),
        ).then(() => setOpen(false));
      }}
    >
      <input
        aria-label="Resume prompt"
        placeholder="What should the agent do next?"
        value={prompt}
        onChange={(e) => setPrompt(e.target.value)}
        required
      />
      <button type="submit" className="primary" disabled={!prompt.trim()}>
        Resume
      </button>
    </form>
  );
}

export function MoveSelect({ task, act }: { task: Task; act: Act }) {
  const moves = USER_MOVES[task.status];
  return (
    <select
      aria-label="Move to"
      value=""
      onChange={(e) => {
        const to = taskStatusOf(e.target.value);
        if (!to) return;
        void act('Move', () =>
          to === 'cancelled'
            ? api(`/tasks/${task.id}/cancel`, { method: 'POST' })
            : api(`/tasks/${task.id}/move`, { method: 'POST', json: { status: to } }),
        );
      }}
    >
      <option value="">Move to…</option>
      {moves.map((s) => (
        <option key={s} value={s}>
          {STATUS_LABEL[s]}
        </option>
      ))}
    </select>
  );
}
