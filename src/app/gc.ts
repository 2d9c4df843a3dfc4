/**
 * gc: removes the run directories and worktrees of finished tasks past the
 * retention. It starts from what is on disk, so its cost follows the size
 * of `runs/` and `worktrees/`, not of the board. Branches are kept: every
 * run's work was committed, so removing a worktree loses nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runDir } from '../config/home.js';
import { formatTaskId, isRunId } from '../domain/ids.js';
import { type GcRun, type GcTask, planGc } from '../domain/workspace.js';
import { appendEvent } from '../store/events.js';
import { activeRunOfTask } from '../store/runs.js';
import {
  gcFacts,
  getWorkspace,
  listWorkspaces,
  tasksOfRuns,
  updateWorkspace,
} from '../store/workspaces.js';
import { hasAnyChanges, removeWorktree } from '../workspace/repo.js';
import type { App } from './context.js';
import { worktreeDir } from './workspaces.js';

export interface GcOptions {
  olderThanMs: number;
  keepFailed: boolean;
  dryRun: boolean;
}

export interface GcItem {
  kind: 'run_dir' | 'worktree';
  /** A run id, or a task id for a worktree. */
  id: string;
  task: string;
  path: string;
  bytes: number;
}

export interface GcReport {
  dryRun: boolean;
  olderThanMs: number;
  keepFailed: boolean;
  /** Removed, or with dryRun what would be. */
  removed: GcItem[];
  skipped: { id: string; path: string; reason: string }[];
  bytesFreed: number;
}

export async function runGc(app: App, opts: GcOptions): Promise<GcReport> {
  const runIds = listDir(app.paths.runs).filter(isRunId);
  const worktreeRoot = path.join(app.paths.home, 'worktrees');
  const worktreeTasks = listDir(worktreeRoot)
    .map((n) => /^T-([1-9]\d*)$/.exec(n)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number);
  const taskIds = [...new Set([...(await tasksOfRuns(app.store.db, runIds)), ...worktreeTasks])];
  const facts = await gcFacts(app.store.db, taskIds);
  const workspaces = new Map(
    (await listWorkspaces(app.store.db)).map((w) => [w.task_id, w] as const),
  );
  const onDisk = new Set(runIds);
  const lastEnd = new Map<number, number>();
  for (const r of facts.runs) {
    const t = r.endedAt ?? r.createdAt;
    lastEnd.set(r.taskId, Math.max(lastEnd.get(r.taskId) ?? 0, t));
  }
  const tasks: GcTask[] = facts.tasks.map((t) => ({
    id: t.id,
    status: t.status,
    lastActivityAt: Math.max(t.updatedAt, lastEnd.get(t.id) ?? 0),
    // Only worktrees agentboard made, at the path it recorded.
    hasWorktree:
      worktreeTasks.includes(t.id) && workspaces.get(t.id)?.path === worktreeDir(app, t.id),
  }));
  const runs: GcRun[] = facts.runs.map((r) => ({
    id: r.id,
    taskId: r.taskId,
    state: r.state,
    hasDir: onDisk.has(r.id),
  }));
  const plan = planGc(tasks, runs, {
    now: app.clock.now(),
    olderThanMs: opts.olderThanMs,
    keepFailed: opts.keepFailed,
  });

  const report: GcReport = { ...opts, removed: [], skipped: [], bytesFreed: 0 };
  const taskOfRun = new Map(facts.runs.map((r) => [r.id, r.taskId] as const));
  const candidates: GcItem[] = [];
  for (const id of plan.runDirs) {
    const p = runDir(app.paths, id);
    const task = formatTaskId(taskOfRun.get(id) ?? 0);
    candidates.push({ kind: 'run_dir', id, task, path: p, bytes: diskUsage(p) });
  }
  for (const taskId of plan.worktrees) {
    const p = worktreeDir(app, taskId);
    const task = formatTaskId(taskId);
    // Work a user left uncommitted in a finished task's worktree is theirs: keep it.
    if (await hasAnyChanges(p).catch(() => false)) {
      report.skipped.push({ id: task, path: p, reason: 'uncommitted changes in the worktree' });
      continue;
    }
    candidates.push({ kind: 'worktree', id: task, task, path: p, bytes: diskUsage(p) });
  }

  for (const item of candidates) {
    if (!opts.dryRun && !(await remove(app, item))) {
      report.skipped.push({ id: item.id, path: item.path, reason: 'the task has an active run' });
      continue;
    }
    report.removed.push(item);
    report.bytesFreed += item.bytes;
  }
  return report;
}

/**
 * Removes one item unless a run of its task has started since the plan was
 * made. For a worktree the check happens under the repository lock, which a
 * starting run also takes to find or create its worktree.
 */
async function remove(app: App, item: GcItem): Promise<boolean> {
  const taskId = Number(item.task.slice(2));
  const idle = async () => (await activeRunOfTask(app.store.db, taskId)) === undefined;
  if (item.kind === 'run_dir') {
    if (!(await idle())) return false;
    fs.rmSync(item.path, { recursive: true, force: true });
    return true;
  }
  const ws = await getWorkspace(app.store.db, taskId);
  if (!ws) return false;
  if (!(await removeWorktree(ws.repo, item.path, idle))) return false;
  await app.store.tx(async (tx) => {
    await updateWorkspace(tx, taskId, { removed_at: tx.now });
    await appendEvent(tx, 'workspace.removed', { taskId, data: { path: item.path, by: 'gc' } });
  });
  return true;
}

function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** Bytes on disk (allocated blocks) under `p`, symlinks not followed. */
export function diskUsage(p: string): number {
  let total = 0;
  const stack = [p];
  while (stack.length > 0) {
    const cur = stack.pop() as string;
    let st: fs.Stats;
    try {
      st = fs.lstatSync(cur);
    } catch {
      continue;
    }
    total += st.blocks * 512;
    if (st.isDirectory()) {
      for (const name of listDir(cur)) stack.push(path.join(cur, name));
    }
  }
  return total;
}
