/**
 * Pure decisions about task workspaces: which mode applies, what a task's
 * branch is called, and which directories gc may remove.
 */
import { formatTaskId } from './ids.js';
import type { RunState } from './run.js';
import type { TaskStatus } from './task.js';

export const WORKSPACE_MODES = ['worktree', 'shared', 'none'] as const;
export type WorkspaceMode = (typeof WORKSPACE_MODES)[number];

const MAX_SLUG = 40;

/** A branch-safe slug of a task title: lower-case ASCII words joined by '-'. */
export function slugify(title: string): string {
  const words = title
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
  let slug = '';
  for (const w of words) {
    const next = slug ? `${slug}-${w}` : w;
    if (next.length > MAX_SLUG) break;
    slug = next;
  }
  return slug || words[0]?.slice(0, MAX_SLUG) || 'task';
}

/** `agentboard/T-7-fix-the-login-bug`. */
export function taskBranch(taskId: number, title: string): string {
  return `agentboard/${formatTaskId(taskId)}-${slugify(title)}`;
}

/** The agent's own setting wins over the board's. */
export function workspaceModeOf(
  agentMode: WorkspaceMode | undefined,
  boardMode: WorkspaceMode,
): WorkspaceMode {
  return agentMode ?? boardMode;
}

export interface GcTask {
  id: number;
  status: TaskStatus;
  /** The latest of the task's own update and its runs' ends. */
  lastActivityAt: number;
  /** The task's worktree exists on disk. */
  hasWorktree: boolean;
}

export interface GcRun {
  id: string;
  taskId: number;
  state: RunState;
  /** Its directory exists on disk. */
  hasDir: boolean;
}

export interface GcPolicy {
  now: number;
  olderThanMs: number;
  /** Keep what failed runs left (their logs, and the worktrees of Blocked tasks). */
  keepFailed: boolean;
}

export interface GcPlan {
  runDirs: string[];
  worktrees: number[];
}

/** A task is finished when no run will come unless a user asks: Done, Cancelled or Blocked. */
const FINISHED = new Set(['done', 'cancelled', 'blocked']);
const FAILED_RUN = new Set(['failed', 'timed_out', 'lost']);
const ACTIVE_RUN = new Set(['queued', 'claimed', 'running']);

/**
 * What gc removes: the run directories and worktrees of finished tasks whose
 * last activity is older than the retention. A task with an active run is
 * never touched, whatever its status says.
 */
export function planGc(tasks: GcTask[], runs: GcRun[], p: GcPolicy): GcPlan {
  const cutoff = p.now - p.olderThanMs;
  const busy = new Set(runs.filter((r) => ACTIVE_RUN.has(r.state)).map((r) => r.taskId));
  const eligible = new Set(
    tasks
      .filter(
        (t) =>
          FINISHED.has(t.status) &&
          t.lastActivityAt <= cutoff &&
          !busy.has(t.id) &&
          !(p.keepFailed && t.status === 'blocked'),
      )
      .map((t) => t.id),
  );
  const runDirs = runs
    .filter(
      (r) =>
        r.hasDir &&
        eligible.has(r.taskId) &&
        !ACTIVE_RUN.has(r.state) &&
        !(p.keepFailed && FAILED_RUN.has(r.state)),
    )
    .map((r) => r.id)
    .sort();
  const worktrees = tasks
    .filter((t) => t.hasWorktree && eligible.has(t.id))
    .map((t) => t.id)
    .sort((a, b) => a - b);
  return { runDirs, worktrees };
}
