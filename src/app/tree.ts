/**
 * A task with its subtasks, recursively, and each one's runs: what an agent
 * split its work into and how each part went (`task show`, GET …/tree).
 */
import { formatTaskId } from '../domain/ids.js';
import type { RunState, RunTrigger } from '../domain/run.js';
import type { TaskStatus } from '../domain/task.js';
import { listRuns } from '../store/runs.js';
import { getTask, listTasks, type TaskRow } from '../store/tasks.js';
import type { App } from './context.js';
import { taskNotFound } from './task-lookup.js';

export interface TreeRun {
  id: string;
  agent: string;
  state: RunState;
  trigger: RunTrigger;
  attempt: number;
  exitCode: number | null;
  errorSummary: string | null;
  startedAt: string | null;
  endedAt: string | null;
}

export interface TaskTreeNode {
  id: string;
  title: string;
  status: TaskStatus;
  statusReason: string | null;
  agent: string | null;
  runs: TreeRun[];
  children: TaskTreeNode[];
}

export interface TaskTree {
  root: TaskTreeNode;
  /** Nodes in the tree; a tree larger than the limit is cut and says so. */
  size: number;
  truncated: boolean;
}

export const TREE_LIMIT = 500;

const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

export async function taskTree(app: App, id: number, limit = TREE_LIMIT): Promise<TaskTree> {
  const db = app.store.db;
  const task = await getTask(db, id);
  if (!task) throw taskNotFound(id);
  let size = 0;
  let truncated = false;
  const build = async (t: TaskRow): Promise<TaskTreeNode> => {
    size++;
    const runs = await listRuns(db, { taskId: t.id, order: 'asc' });
    const node: TaskTreeNode = {
      id: formatTaskId(t.id),
      title: t.title,
      status: t.status,
      statusReason: t.status_reason,
      agent: t.agent,
      runs: runs.map((r) => ({
        id: r.id,
        agent: r.agent,
        state: r.state,
        trigger: r.trigger,
        attempt: r.attempt,
        exitCode: r.exit_code,
        errorSummary: r.error_summary,
        startedAt: iso(r.started_at),
        endedAt: iso(r.ended_at),
      })),
      children: [],
    };
    // Parents never form a cycle (tasks.ts refuses one), so this ends.
    for (const child of await listTasks(db, { parentId: t.id, sort: 'created' })) {
      if (size >= limit) {
        truncated = true;
        break;
      }
      node.children.push(await build(child));
    }
    return node;
  };
  const root = await build(task);
  return { root, size, truncated };
}
