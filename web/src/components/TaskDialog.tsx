import { type FormEvent, useEffect, useRef, useState } from 'react';
import { api, errorText } from '../api';
import { PRIORITIES, type Priority, priorityOf, type Task } from '../types';
import { Markdown } from './Markdown';

interface Props {
  /** The task to edit; none to create one. */
  task?: Task;
  agents: string[];
  onClose: () => void;
  onSaved: (t: Task) => void;
}

const list = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

/** Create or edit a task: every field the API takes. */
export function TaskDialog({ task, agents, onClose, onSaved }: Props) {
  const ref = useRef<HTMLDialogElement>(null);
  const [title, setTitle] = useState(task?.title ?? '');
  const [body, setBody] = useState(task?.body ?? '');
  const [preview, setPreview] = useState(false);
  const [agent, setAgent] = useState(task?.agent ?? agents[0] ?? '');
  const [priority, setPriority] = useState<Priority>(task?.priority ?? 'medium');
  const [labels, setLabels] = useState(task?.labels.join(', ') ?? '');
  const [deps, setDeps] = useState(task?.dependsOn.join(', ') ?? '');
  const [parent, setParent] = useState(task?.parent ?? '');
  const [verify, setVerify] = useState(task?.verifyCommand ?? '');
  const [loopOn, setLoopOn] = useState(task?.loop.enabled ?? false);
  const [maxIter, setMaxIter] = useState(String(task?.loop.maxIterations ?? 5));
  const [delaySec, setDelaySec] = useState(String((task?.loop.delayMs ?? 0) / 1000));
  const [doneFile, setDoneFile] = useState(task?.loop.doneFile ?? 'DONE');
  const [startIn, setStartIn] = useState<'backlog' | 'todo'>('backlog');
  const [maxAttempts, setMaxAttempts] = useState(task?.maxAttempts ? String(task.maxAttempts) : '');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  // The agent list may arrive after the dialog opened: a new task defaults to the first.
  const firstAgent = agents[0];
  const [agentTouched, setAgentTouched] = useState(Boolean(task));
  useEffect(() => {
    if (!agentTouched && firstAgent) setAgent(firstAgent);
  }, [agentTouched, firstAgent]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const fields = {
      title: title.trim(),
      body,
      priority,
      agent: agent || null,
      labels: list(labels),
      parent: parent.trim() || null,
      verifyCommand: verify.trim() || null,
      maxAttempts: maxAttempts ? Number(maxAttempts) : null,
      loop: {
        enabled: loopOn,
        maxIterations: Number(maxIter) || 1,
        delayMs: Math.round((Number(delaySec) || 0) * 1000),
        doneFile: doneFile.trim() || 'DONE',
      },
    };
    try {
      let saved: Task;
      if (task) {
        const before = new Set(task.dependsOn);
        const after = new Set(list(deps).map((d) => d.toUpperCase()));
        saved = await api<Task>(`/tasks/${task.id}`, {
          method: 'PATCH',
          json: {
            ...fields,
            addDependsOn: [...after].filter((d) => !before.has(d)),
            removeDependsOn: [...before].filter((d) => !after.has(d)),
          },
        });
      } else {
        saved = await api<Task>('/tasks', {
          method: 'POST',
          json: { ...fields, status: startIn, dependsOn: list(deps) },
        });
      }
      onSaved(saved);
      ref.current?.close();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <dialog ref={ref} className="dialog" onClose={onClose} aria-labelledby="task-dialog-title">
      <form onSubmit={submit} className="dialog-form">
        <h2 id="task-dialog-title">{task ? `Edit ${task.id}` : 'New task'}</h2>
        <label>
          Title
          <input
            name="title"
            required
            maxLength={500}
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            autoFocus
          />
        </label>
        <div className="body-field">
          <div className="tabs small">
            <button type="button" className={preview ? '' : 'on'} onClick={() => setPreview(false)}>
              Write
            </button>
            <button type="button" className={preview ? 'on' : ''} onClick={() => setPreview(true)}>
              Preview
            </button>
          </div>
          {preview ? (
            <Markdown text={body || '*Nothing to preview.*'} className="preview" />
          ) : (
            <textarea
              name="body"
              aria-label="Body (markdown)"
              placeholder="What should the agent do? Markdown works."
              rows={5}
              value={body}
              onChange={(e) => setBody(e.target.value)}
            />
          )}
        </div>
        <div className="grid2">
          <label>
            Agent
            <select
              name="agent"
              value={agent}
              onChange={(e) => {
                setAgentTouched(true);
                setAgent(e.target.value);
              }}
            >
              <option value="">none</option>
              {agents.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
              {agent && !agents.includes(agent) ? <option value={agent}>{agent}</option> : null}
            </select>
          </label>
          <label>
            Priority
            <select
              name="priority"
              value={priority}
              onChange={(e) => setPriority(priorityOf(e.target.value) ?? priority)}
            >
              {PRIORITIES.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </label>
          <label>
            Labels <span className="hint">comma separated</span>
            <input name="labels" value={labels} onChange={(e) => setLabels(e.target.value)} />
          </label>
          <label>
            Depends on <span className="hint">T-1, T-2</span>
            <input name="dependsOn" value={deps} onChange={(e) => setDeps(e.target.value)} />
          </label>
          <label>
            Parent
            <input
              name="parent"
              placeholder="T-…"
              value={parent}
              onChange={(e) => setParent(e.target.value)}
            />
          </label>
          {task ? null : (
            <label>
              Start in <span className="hint">Todo starts its agent</span>
              <select
                name="status"
                value={startIn}
                onChange={(e) => setStartIn(e.target.value as 'backlog' | 'todo')}
              >
                <option value="backlog">Backlog</option>
                <option value="todo">Todo</option>
              </select>
            </label>
          )}
          <label>
            Max attempts <span className="hint">blank: board default</span>
            <input
              name="maxAttempts"
              type="number"
              min={1}
              max={100}
              value={maxAttempts}
              onChange={(e) => setMaxAttempts(e.target.value)}
            />
          </label>
        </div>
        <label>
          Verify command <span className="hint">exit 0 means done, e.g. npm test</span>
          <input name="verifyCommand" value={verify} onChange={(e) => setVerify(e.target.value)} />
        </label>
        <fieldset className="loop">
          <legend>
            <label className="check">
              <input
                type="checkbox"
                checked={loopOn}
                onChange={(e) => setLoopOn(e.target.checked)}
              />{' '}
              Loop until done
            </label>
          </legend>
          <div className="grid3">
            <label>
              Max iterations
              <input
                type="number"
                min={1}
                max={1000}
                disabled={!loopOn}
                value={maxIter}
                onChange={(e) => setMaxIter(e.target.value)}
              />
            </label>
            <label>
              Delay (s)
              <input
                type="number"
                min={0}
                disabled={!loopOn}
                value={delaySec}
                onChange={(e) => setDelaySec(e.target.value)}
              />
            </label>
            <label>
              Done file
              <input
                disabled={!loopOn}
                value={doneFile}
                onChange={(e) => setDoneFile(e.target.value)}
              />
            </label>
          </div>
        </fieldset>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="dialog-actions">
          <button type="button" onClick={() => ref.current?.close()}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy || !title.trim()}>
            {busy ? 'Saving…' : task ? 'Save' : 'Create'}
          </button>
        </div>
      </form>
    </dialog>
  );
}
