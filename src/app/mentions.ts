/**
 * A comment that mentions a configured agent (`@claude please look at the
 * failing test`) queues a follow-up run on that task whose prompt is the
 * comment, in the comment's own transaction: either both happen or neither.
 *
 * - The run resumes the agent's last session on this task where the agent
 *   has sessions (every kind but `command`), as `agentboard run --prompt` does.
 * - A task runs one agent at a time. While it has an active run (queued or
 *   live), a mention is refused with the run named, and the comment is not
 *   stored: the author comments again once the run has ended, or writes the
 *   name without `@` to only comment. Queueing it behind the active run would
 *   need a second queued run on the task, which the one-active-run rule forbids.
 * - For the same reason a comment may mention one agent, not several.
 * - An author never mentions itself into a run (an agent quoting its own name
 *   in a comment would otherwise wake itself forever).
 */
import { ConflictError, UsageError } from '../domain/errors.js';
import { formatTaskId } from '../domain/ids.js';
import { mentionedAgents } from '../domain/mentions.js';
import { activeRunOfTask, latestRunOfTask, type RunRow } from '../store/runs.js';
import type { Tx } from '../store/store.js';
import type { TaskRow } from '../store/tasks.js';
import type { App } from './context.js';
import { enqueueRun, resumableSession } from './queue.js';

/** Queues the run a comment's mention asks for; returns it, or null when nobody is mentioned. */
export async function queueMentionRun(
  app: App,
  tx: Tx,
  task: TaskRow,
  comment: { author: string; body: string },
): Promise<RunRow | null> {
  const author = comment.author.trim().toLowerCase();
  const agents = mentionedAgents(comment.body, Object.keys(app.config.agents)).filter(
    (a) => a !== author,
  );
  if (agents.length === 0) return null;
  const id = formatTaskId(task.id);
  if (agents.length > 1) {
    throw new UsageError(
      `the comment mentions ${agents.map((a) => `@${a}`).join(' and ')}, but ${id} runs one agent at a time: mention one agent per comment, or give the other one a subtask (\`agentboard task add --parent ${id} --agent NAME\`)`,
      { field: 'body' },
    );
  }
  const agent = agents[0] as string;
  const active = await activeRunOfTask(tx.db, task.id);
  if (active) {
    throw new ConflictError(
      'run_active',
      `${id} already has an active run ${active.id} (${active.agent}, ${active.state}), so the mention of @${agent} cannot start one: comment again once it has ended (\`agentboard task wait ${id}\`) or stop it (\`agentboard stop ${active.id}\`); to comment without starting a run, leave out the @`,
      { activeRun: active.id, state: active.state },
    );
  }
  const resume = await resumableSession(app, tx, task.id, agent);
  return enqueueRun(app, tx, task, {
    agent,
    trigger: 'mention',
    prompt: comment.body,
    previousRunId: (await latestRunOfTask(tx.db, task.id))?.id ?? null,
    resumeSessionId: resume,
  });
}
