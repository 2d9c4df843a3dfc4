/**
 * An agent's heartbeat: a schedule owned by the agent (kept in step with its
 * config at engine start) whose tick starts a run of the agent, on its own
 * "<agent> heartbeat" task, to review its open tasks and the comments that
 * mention it. It acts: each tick with something to review queues a run.
 */
import { formatTaskId } from '../domain/ids.js';
import { mentionedAgents } from '../domain/mentions.js';
import type { TaskStatus } from '../domain/task.js';
import { commentsMentioning, hasCommentSince } from '../store/comments.js';
import { appendEvent } from '../store/events.js';
import {
  heartbeatScheduleOf,
  insertSchedule,
  lastTickAt,
  listSchedules,
  lockHeartbeats,
  type ScheduleRow,
  updateSchedule,
} from '../store/schedules.js';
import type { Tx } from '../store/store.js';
import { listTasks, type TaskRow } from '../store/tasks.js';
import type { App } from './context.js';
import { insertNewTask } from './tasks.js';

/** A heartbeat missed while the engine was down fires once on start if it is this recent. */
const HEARTBEAT_WINDOW_MS = 24 * 3_600_000;
/** With no earlier heartbeat run, mentions this recent are reviewed. */
const FIRST_LOOK_BACK_MS = 7 * 86_400_000;
const MAX_TASKS = 50;
const MAX_MENTIONS = 20;
/** Comments looked at to find them (newest first). */
const MENTION_CANDIDATES = 500;
const OPEN: TaskStatus[] = ['backlog', 'todo', 'in_progress', 'review', 'blocked'];

/**
 * Creates, updates or disables heartbeat schedules so they match the config:
 * one per agent with `heartbeat`, each with its task created once. A changed
 * cron (or one re-enabled) counts from now, so it does not catch up on ticks
 * of a schedule that was not in force.
 */
export async function syncHeartbeats(app: App): Promise<void> {
  await app.store.tx(async (tx) => {
    await lockHeartbeats(tx);
    const wanted = new Set<string>();
    for (const [agent, conf] of Object.entries(app.config.agents)) {
      const hb = conf.heartbeat;
      if (!hb) continue;
      wanted.add(agent);
      const timezone = hb.timezone ?? null;
      const prompt = hb.prompt ?? '';
      const existing = await heartbeatScheduleOf(tx.db, agent);
      if (!existing) {
        const task = await insertHeartbeatTask(tx, agent);
        const s = await insertSchedule(tx, {
          cron: hb.cron,
          timezone,
          agent,
          prompt,
          task_id: task.id,
          catch_up: 'latest',
          catch_up_window_ms: HEARTBEAT_WINDOW_MS,
          overlap: 'skip',
          enabled: 1,
          last_tick_at: null,
          created_at: tx.now,
          title: null,
          heartbeat: 1,
        });
        await appendEvent(tx, 'schedule.created', {
          taskId: task.id,
          data: { scheduleId: `S-${s.id}`, cron: hb.cron, agent, heartbeat: true },
        });
        continue;
      }
      const moved =
        existing.cron !== hb.cron || existing.timezone !== timezone || existing.enabled !== 1;
      if (moved || existing.prompt !== prompt) {
        await updateSchedule(tx, existing.id, {
          cron: hb.cron,
          timezone,
          prompt,
          enabled: 1,
          ...(moved ? { last_tick_at: tx.now } : {}),
        });
      }
    }
    for (const s of await listSchedules(tx.db, { enabledOnly: true })) {
      if (s.heartbeat === 1 && (s.agent === null || !wanted.has(s.agent))) {
        await updateSchedule(tx, s.id, { enabled: 0 });
      }
    }
  });
}

/** The heartbeat's own card, in Backlog so autostart leaves it alone. */
function insertHeartbeatTask(tx: Tx, agent: string): Promise<TaskRow> {
  return insertNewTask(tx, {
    title: `${agent} heartbeat`,
    body: `Each run of this task is a heartbeat of ${agent}: it reviews ${agent}'s open tasks and the comments mentioning it.`,
    status: 'backlog',
    agent,
    labels: ['heartbeat'],
    maxAttempts: 1,
  });
}

interface Mention {
  taskId: number;
  author: string;
  body: string;
  createdAt: number;
}

/**
 * The prompt of one heartbeat run: the agent's open tasks and the comments
 * mentioning it since its previous heartbeat run that it has not answered
 * (commented on that task after). Null when there is nothing to review and
 * no configured prompt: an idle heartbeat costs nothing.
 */
export async function heartbeatPrompt(
  tx: Tx,
  s: ScheduleRow,
  agent: string,
  tick: number,
): Promise<string | null> {
  const tasks = (await listTasks(tx.db, { agent, statuses: OPEN, sort: 'priority' }))
    .filter((t) => t.id !== s.task_id)
    .slice(0, MAX_TASKS);
  const since = (await lastTickAt(tx.db, s.id, 'run', tick)) ?? tick - FIRST_LOOK_BACK_MS;
  const mentions = await unansweredMentions(tx, agent, since, s.task_id);
  const custom = s.prompt.trim();
  if (tasks.length === 0 && mentions.length === 0 && !custom) return null;

  const when = new Date(tick).toISOString();
  const lines = [`# Heartbeat of ${agent} (${when})`, ''];
  if (custom) lines.push(custom, '');
  lines.push(
    'Review your work on the board and act on it: answer the comments below, or note on the bus what blocks them and what should move. Use the `agentboard` CLI (it reaches the board with this run’s token), e.g. `agentboard task show T-1`, `agentboard task comment T-1 "…"`.',
    '',
    `## Your open tasks (${tasks.length})`,
  );
  if (tasks.length === 0) lines.push('- none');
  for (const t of tasks) lines.push(`- ${formatTaskId(t.id)} [${t.status}] ${oneLine(t.title)}`);
  lines.push('', `## Comments mentioning you, not yet answered (${mentions.length})`);
  if (mentions.length === 0) lines.push('- none');
  for (const m of mentions) {
    lines.push(
      `- ${formatTaskId(m.taskId)}, ${m.author}, ${new Date(m.createdAt).toISOString()}: ${oneLine(m.body).slice(0, 500)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function unansweredMentions(
  tx: Tx,
  agent: string,
  since: number,
  ownTask: number | null,
): Promise<Mention[]> {
  const out: Mention[] = [];
  for (const r of await commentsMentioning(tx.db, agent, since, MENTION_CANDIDATES)) {
    const m = { taskId: r.task_id, author: r.author, body: r.body, createdAt: r.created_at };
    if (m.taskId === ownTask || m.author.toLowerCase() === agent) continue;
    if (!mentionedAgents(m.body, [agent]).includes(agent)) continue;
    if (!(await hasCommentSince(tx.db, m.taskId, agent, m.createdAt))) out.push(m);
    if (out.length >= MAX_MENTIONS) break;
  }
  return out.reverse();
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim();
}
