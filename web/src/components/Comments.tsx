import { type FormEvent, useState } from 'react';
import { api, errorText } from '../api';
import { when } from '../format';
import type { TaskDetail as Detail } from '../types';
import { Markdown } from './Markdown';

/** The task's comments and the form to add one (an @agent mention hands the task to it). */
export function Comments({
  task,
  agents,
  reload,
  onError,
}: {
  task: Detail;
  agents: string[];
  reload: () => void;
  onError: (m: string) => void;
}) {
  const [body, setBody] = useState('');
  const [note, setNote] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const text = body.trim();
    if (!text) return;
    try {
      // The server turns an @agent mention into a run of that agent, prompted by the comment.
      const c = await api<{ mentionRun: { agent: string } | null }>(`/tasks/${task.id}/comments`, {
        method: 'POST',
        json: { body: text },
      });
      setBody('');
      setNote(c.mentionRun ? `Sent to @${c.mentionRun.agent}: a run is queued.` : null);
      reload();
    } catch (err) {
      onError(`Comment: ${errorText(err)}`);
    }
  };
  return (
    <div className="comments">
      <h2>Comments</h2>
      {task.comments.length === 0 ? <p className="muted">No comments yet.</p> : null}
      {task.comments.map((c) => (
        <div key={c.id} className="comment">
          <div className="comment-head">
            <strong>{c.author}</strong> <span className="muted">{when(c.createdAt)}</span>
          </div>
          <Markdown text={c.body} />
        </div>
      ))}
      <form onSubmit={submit} className="comment-form">
        <textarea
          aria-label="Comment"
          placeholder={
            agents.length > 0
              ? `Comment; @${agents[0]} hands it to that agent`
              : 'Comment (markdown)'
          }
          value={body}
          rows={3}
          onChange={(e) => setBody(e.target.value)}
        />
        <div className="row">
          {note ? <span className="muted">{note}</span> : <span />}
          <button type="submit" disabled={!body.trim()}>
            Comment
          </button>
        </div>
      </form>
    </div>
  );
}
