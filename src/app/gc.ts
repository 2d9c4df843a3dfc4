/**
 * gc: for finished tasks past the retention, removes their run directories
 * and worktrees, and prunes their history from the database: board events,
 * bus messages, transcript events and shipped output. Directories are found
 * from what is on disk, so that cost follows the size of `runs/` and
 * `worktrees/`; rows from the tasks untouched since the cutoff. Task and run
 * rows stay (the card and its runs' verdicts, usage and cost), and branches
 * are kept: every run's work was committed, so removing a worktree loses
 * nothing. A run whose output is gone says so (runs.output_removed_at).
 *
 * Pruning leaves gaps in the event ids. A feed client resuming from a cursor
 * below a removed event would not know what it missed, so gc then appends a
 * `gc.pruned` event (never pruned itself) carrying `eventsThrough`: a client
 * whose cursor is below it reloads its state instead of trusting its copy.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runDir } from '../config/home.js';
import { formatTaskId, isRunId } from '../domain/ids.js';
import { type GcRun, type GcTask, planGc } from '../domain/workspace.js';
import { appendEvent } from '../store/events.js';
import {
  lockTasks,
  markOutputRemoved,
  noRows,
  PRUNED_TABLES,
  pruneCandidates,
  pruneRows,
  type RowCounts,
  returnSpace,
  type SpaceReport,
} from '../store/prune.js';
import { activeRunOfTask } from '../store/runs.js';
import {
  type GcRunFacts,
  type GcTaskFacts,
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
  /**
   * May run the one full VACUUM that makes a SQLite file incremental (it
   * stops this process while it runs): yes from the CLI, not in the server.
   */
  fullVacuum?: boolean;
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
  /** Removed directories, or with dryRun what would be. */
  removed: GcItem[];
  skipped: { id: string; path: string; reason: string }[];
  /** Bytes of the removed directories. */
  bytesFreed: number;
  /** Rows pruned per table, or with dryRun what would be. */
  rows: RowCounts;
  /** Runs whose logs and transcripts now answer "removed by gc" (or would). */
  outputRemoved: number;
  /** How the database's freed space was returned; null on a dry run or when no row went. */
  space: SpaceReport | null;
}

/**
 * Tasks per transaction. Each holds SQLite's write lock, and better-sqlite3
 * runs on the event loop: measured about 10 ms per batch of 20 finished tasks
 * (40 runs of 40 transcript events each), with the loop turning in between.
 */
const TASKS_PER_TX = 20;

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
  const plan = planGc(
    gcTasks(
      facts.tasks,
      facts.runs,
      (id) =>
        // Only worktrees agentboard made, at the path it recorded.
        worktreeTasks.includes(id) && workspaces.get(id)?.path === worktreeDir(app, id),
    ),
    gcRuns(facts.runs, (id) => onDisk.has(id)),
    policy(app, opts),
  );

  const pruned = await pruneHistory(app, opts);
  const report: GcReport = {
    dryRun: opts.dryRun,
    olderThanMs: opts.olderThanMs,
    keepFailed: opts.keepFailed,
    removed: [],
    skipped: [],
    bytesFreed: 0,
    rows: pruned.rows,
    outputRemoved: pruned.runs,
    space: null,
  };
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
  if (!opts.dryRun && PRUNED_TABLES.some((t) => pruned.rows[t] > 0)) {
    if (pruned.eventsThrough > 0 || pruned.messagesThrough > 0) {
      await app.store.tx((tx) =>
        appendEvent(tx, 'gc.pruned', {
          data: {
            eventsThrough: pruned.eventsThrough,
            messagesThrough: pruned.messagesThrough,
            before: new Date(app.clock.now() - opts.olderThanMs).toISOString(),
            rows: pruned.rows,
          },
        }),
      );
    }
    report.space = await returnSpace(app.store, { allowFull: opts.fullVacuum ?? false });
  }
  return report;
}

function policy(app: App, opts: GcOptions) {
  return { now: app.clock.now(), olderThanMs: opts.olderThanMs, keepFailed: opts.keepFailed };
}

function gcTasks(
  tasks: GcTaskFacts[],
  runs: GcRunFacts[],
  hasWorktree: (taskId: number) => boolean,
): GcTask[] {
  const lastEnd = new Map<number, number>();
  for (const r of runs) {
    const t = r.endedAt ?? r.createdAt;
    lastEnd.set(r.taskId, Math.max(lastEnd.get(r.taskId) ?? 0, t));
  }
  return tasks.map((t) => ({
    id: t.id,
    status: t.status,
    lastActivityAt: Math.max(t.updatedAt, lastEnd.get(t.id) ?? 0),
    hasWorktree: hasWorktree(t.id),
  }));
}

function gcRuns(runs: GcRunFacts[], hasDir: (runId: string) => boolean): GcRun[] {
  return runs.map((r) => ({ id: r.id, taskId: r.taskId, state: r.state, hasDir: hasDir(r.id) }));
}

/**
 * Prunes the rows of finished tasks past the retention, a few tasks per
 * transaction. The plan is gc's own (planGc), asked as if every task had a
 * worktree and every run a directory: the tasks it would clear lose their
 * events and messages from before the cutoff, the runs it would clear their
 * transcript and shipped output. Each batch re-reads its facts under the
 * lock, so a task that gained a run since the candidates were listed is left
 * alone.
 */
async function pruneHistory(app: App, opts: GcOptions) {
  const total = { rows: noRows(), runs: 0, eventsThrough: 0, messagesThrough: 0 };
  const cutoff = app.clock.now() - opts.olderThanMs;
  const candidates = await pruneCandidates(app.store.db, cutoff);
  for (let i = 0; i < candidates.length; i += TASKS_PER_TX) {
    const batch = candidates.slice(i, i + TASKS_PER_TX);
    const r = await app.store.tx(async (tx) => {
      await lockTasks(tx, batch);
      const facts = await gcFacts(tx.db, batch);
      const plan = planGc(
        gcTasks(facts.tasks, facts.runs, () => true),
        gcRuns(facts.runs, () => true),
        policy(app, opts),
      );
      return pruneRows(tx, { taskIds: plan.worktrees, runIds: plan.runDirs, cutoff }, opts.dryRun);
    });
    // SQLite answers without yielding: let requests and the engine in between batches.
    await new Promise((resolve) => setImmediate(resolve));
    for (const t of PRUNED_TABLES) total.rows[t] += r.rows[t];
    total.runs += r.runs;
    total.eventsThrough = Math.max(total.eventsThrough, r.eventsThrough);
    total.messagesThrough = Math.max(total.messagesThrough, r.messagesThrough);
  }
  return total;
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
    // Marked first: a crash in between leaves a log that says it was removed, not an empty one.
    await app.store.tx((tx) => markOutputRemoved(tx, [item.id]));
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
