/**
 * Task workspaces as use cases: preparing a run's working directory,
 * committing what a run did, and the user's diff / merge / discard. Plain
 * data in and out, shared by the engine, the CLI and the HTTP API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runDir } from '../config/home.js';
import type { AgentConfig } from '../config/schema.js';
import { AgentboardError, ConfigError, ConflictError, NotFoundError } from '../domain/errors.js';
import { formatTaskId } from '../domain/ids.js';
import { plainTail } from '../domain/plain-text.js';
import { taskBranch, type WorkspaceMode, workspaceModeOf } from '../domain/workspace.js';
import { appendEvent } from '../store/events.js';
import { lastRunEvent } from '../store/run-events.js';
import { activeRunOfTask, type RunRow } from '../store/runs.js';
import { getTask, type TaskRow } from '../store/tasks.js';
import {
  getWorkspace,
  saveWorkspace,
  updateWorkspace,
  type WorkspaceRow,
} from '../store/workspaces.js';
import { type Diff, diffCommits, mergeBase } from '../workspace/diff.js';
import { mergeIntoBase } from '../workspace/merge.js';
import {
  branchCommit,
  commitAll,
  currentBranch,
  deleteBranch,
  ensureWorktree,
  hasAnyChanges,
  headCommit,
  removeWorktree,
  repoOf,
} from '../workspace/repo.js';
import type { App } from './context.js';
import { resolveRun } from './runs.js';
import { boardRedactor } from './secrets.js';
import { taskNotFound } from './task-lookup.js';

export interface RunWorkspace {
  mode: WorkspaceMode;
  /** Where the agent starts. */
  cwd: string;
  /** For a worktree: the commit the run starts from, and the command to run first. */
  commitBefore: string | null;
  setup: string | null;
}

export function worktreeDir(app: App, taskId: number): string {
  return path.join(app.paths.home, 'worktrees', formatTaskId(taskId));
}

/**
 * The directory a run works in, made ready: the board's workdir (shared), a
 * scratch directory of its own (none), or the task's git worktree, created
 * on the task's first run and reused after that (worktree).
 */
export async function prepareRunWorkspace(
  app: App,
  run: RunRow,
  agent: AgentConfig,
): Promise<RunWorkspace> {
  const mode = workspaceModeOf(agent.workspace, app.config.board.workspace);
  if (mode === 'shared') return { mode, cwd: app.workdir, commitBefore: null, setup: null };
  if (mode === 'none') {
    const cwd = path.join(runDir(app.paths, run.id), 'work');
    fs.mkdirSync(cwd, { recursive: true });
    return { mode, cwd, commitBefore: null, setup: null };
  }
  const task = await getTask(app.store.db, run.task_id);
  if (!task) throw taskNotFound(run.task_id);
  const ws = await ensureTaskWorktree(app, task);
  return {
    mode,
    cwd: path.join(ws.path, ws.subdir),
    commitBefore: await headCommit(ws.path),
    setup: app.config.board.setup ?? null,
  };
}

async function ensureTaskWorktree(
  app: App,
  task: TaskRow,
): Promise<{ path: string; subdir: string }> {
  const { root, subdir } = await repoOf(app.workdir);
  const row = await getWorkspace(app.store.db, task.id);
  // A discarded workspace starts over from the base; otherwise the branch is kept.
  const current = row && row.discarded_at === null ? row : undefined;
  const base = current?.base_branch ?? (await baseBranchOf(app, root));
  const baseCommit = current?.base_commit ?? (await branchCommit(root, base));
  if (baseCommit === null) {
    throw new ConfigError(
      `the base branch ${base} does not exist in ${root} (or has no commit yet): commit something, or set board.base_branch`,
    );
  }
  const branch = current?.branch ?? taskBranch(task.id, task.title);
  const dir = worktreeDir(app, task.id);
  const { created } = await ensureWorktree({ root, dir, branch, baseCommit });
  if (created || !current || current.removed_at !== null) {
    await app.store.tx(async (tx) => {
      await saveWorkspace(
        tx,
        {
          task_id: task.id,
          repo: root,
          path: dir,
          branch,
          base_branch: base,
          base_commit: baseCommit,
        },
        { fresh: current === undefined },
      );
      await appendEvent(tx, 'workspace.created', {
        taskId: task.id,
        data: { path: dir, branch, base },
      });
    });
  }
  return { path: dir, subdir };
}

async function baseBranchOf(app: App, root: string): Promise<string> {
  const configured = app.config.board.base_branch;
  if (configured) return configured;
  const b = await currentBranch(root);
  if (b === null) {
    throw new ConfigError(
      `${root} is on a detached HEAD, so there is no branch to start task branches from: set board.base_branch`,
    );
  }
  return b;
}

/**
 * Commits whatever the run left in its worktree to the task branch, with the
 * agent's final summary as the message. Safe to repeat: with nothing left to
 * commit it just returns the branch's head. null when the run has no worktree.
 */
export async function commitRunWork(
  app: App,
  run: RunRow,
  outcome: string,
): Promise<string | null> {
  if (run.commit_before === null) return null;
  const ws = await getWorkspace(app.store.db, run.task_id);
  if (!ws || !fs.existsSync(path.join(ws.path, '.git'))) return null;
  // The summary quotes the agent, which may have printed a secret: the commit
  // message passes the board's one redactor, like every other channel, and is
  // cut only after it (a cut secret would no longer be recognised).
  const summary = boardRedactor(app)
    .text(await finalSummary(app, run.id))
    .slice(0, MAX_MESSAGE);
  const subject = summary || `${formatTaskId(run.task_id)}: run ${run.id} ${outcome}`;
  const message = `${subject}\n\nAgentboard-Task: ${formatTaskId(run.task_id)}\nAgentboard-Run: ${run.id}\nAgentboard-Outcome: ${outcome}\n`;
  return commitAll(ws.path, message);
}

const MAX_MESSAGE = 8000;

/** The agent's final result text, or for plain-text agents its last line of output. */
async function finalSummary(app: App, runId: string): Promise<string> {
  const e =
    (await lastRunEvent(app.store.db, runId, ['result'])) ??
    (await lastRunEvent(app.store.db, runId, ['message']));
  return e && (e.type === 'result' || e.type === 'message') ? plainTail(e.text) : '';
}

export interface WorkspaceView {
  task: string;
  path: string;
  exists: boolean;
  branch: string;
  base: string;
  baseCommit: string;
  mergedAt: string | null;
  mergeCommit: string | null;
  discardedAt: string | null;
  removedAt: string | null;
}

function workspaceView(w: WorkspaceRow): WorkspaceView {
  const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
  return {
    task: formatTaskId(w.task_id),
    path: w.path,
    exists: fs.existsSync(path.join(w.path, '.git')),
    branch: w.branch,
    base: w.base_branch,
    baseCommit: w.base_commit,
    mergedAt: iso(w.merged_at),
    mergeCommit: w.merge_commit,
    discardedAt: iso(w.discarded_at),
    removedAt: iso(w.removed_at),
  };
}

/** The task's workspace, or a NotFoundError saying how to get one. */
export async function workspaceOf(app: App, taskId: number): Promise<WorkspaceRow> {
  const task = await getTask(app.store.db, taskId);
  if (!task) throw taskNotFound(taskId);
  const ws = await getWorkspace(app.store.db, taskId);
  if (!ws || ws.discarded_at !== null) {
    throw new NotFoundError(
      'workspace of task',
      formatTaskId(taskId),
      ws
        ? 'it was discarded'
        : 'it has none: workspaces are created by runs when board.workspace (or the agent\'s workspace) is "worktree"',
    );
  }
  return ws;
}

export async function showWorkspace(app: App, taskId: number): Promise<WorkspaceView> {
  return workspaceView(await workspaceOf(app, taskId));
}

export interface TaskDiff extends Diff {
  task: string;
  branch: string;
  base: string;
  /** Set for a run's diff. */
  run: string | null;
}

/** Everything the task's branch changed since it left its base (committed work). */
export async function diffTask(app: App, taskId: number): Promise<TaskDiff> {
  const ws = await workspaceOf(app, taskId);
  const head = await branchCommit(ws.repo, ws.branch);
  if (head === null) throw missingBranch(ws);
  const base = (await branchCommit(ws.repo, ws.base_branch)) ?? ws.base_commit;
  const from = await mergeBase(ws.repo, base, head);
  return { ...(await diffCommits(ws.repo, from, head)), ...labels(ws), run: null };
}

/** What one run changed: from the commit it started at to the one its work was committed as. */
export async function diffRun(app: App, runRef: string): Promise<TaskDiff> {
  const run = await resolveRun(app, runRef);
  const ws = await workspaceOf(app, run.task_id);
  if (run.commit_before === null) {
    throw new NotFoundError('diff of run', run.id, 'it did not run in a worktree');
  }
  if (run.commit_after === null) {
    throw new ConflictError(
      'run_not_committed',
      `run ${run.id} has not ended yet (${run.state}): its changes are committed when it ends`,
    );
  }
  return {
    ...(await diffCommits(ws.repo, run.commit_before, run.commit_after)),
    ...labels(ws),
    run: run.id,
  };
}

function labels(ws: WorkspaceRow) {
  return { task: formatTaskId(ws.task_id), branch: ws.branch, base: ws.base_branch };
}

function missingBranch(ws: WorkspaceRow): AgentboardError {
  return new AgentboardError(
    'branch_missing',
    `the branch ${ws.branch} of ${formatTaskId(ws.task_id)} no longer exists in ${ws.repo}`,
  );
}

export interface MergeResult {
  task: string;
  branch: string;
  base: string;
  outcome: 'merged' | 'up_to_date';
  commit: string;
  squash: boolean;
  /** The checkout whose base branch was moved forward, if the base was checked out. */
  updatedCheckout: string | null;
}

/**
 * Merges the task branch into its base. The merge is computed without a
 * work tree; the base moves only if the result is clean and the base's own
 * checkout (if any) has no uncommitted changes.
 */
export async function mergeTask(
  app: App,
  taskId: number,
  opts: { squash?: boolean } = {},
): Promise<MergeResult> {
  const ws = await workspaceOf(app, taskId);
  await refuseActiveRun(app, taskId, 'merge');
  await refuseUncommitted(ws, 'merging');
  const task = (await getTask(app.store.db, taskId)) as TaskRow;
  const squash = opts.squash === true;
  const label = formatTaskId(taskId);
  const out = await mergeIntoBase({
    root: ws.repo,
    base: ws.base_branch,
    branch: ws.branch,
    squash,
    label,
    message: squash
      ? `${label}: ${task.title}\n\nSquashed from ${ws.branch} by agentboard.\n`
      : `Merge ${ws.branch} (${label}: ${task.title})\n`,
  });
  if (out.kind === 'merged') {
    await app.store.tx(async (tx) => {
      await updateWorkspace(tx, taskId, { merged_at: tx.now, merge_commit: out.commit });
      await appendEvent(tx, 'workspace.merged', {
        taskId,
        data: { branch: ws.branch, base: ws.base_branch, commit: out.commit, squash },
      });
    });
  }
  return {
    ...labels(ws),
    outcome: out.kind,
    commit: out.commit,
    squash,
    updatedCheckout: out.kind === 'merged' ? out.updatedCheckout : null,
  };
}

export interface DiscardResult {
  task: string;
  branch: string;
  /** Where the branch pointed: `git branch <name> <commit>` brings it back while git keeps the objects. */
  commit: string | null;
  removedWorktree: string | null;
}

/** Deletes the task's worktree and branch. */
export async function discardTask(app: App, taskId: number): Promise<DiscardResult> {
  const ws = await workspaceOf(app, taskId);
  await refuseActiveRun(app, taskId, 'discard');
  const exists = fs.existsSync(ws.path);
  // Checked again under the repository lock: a run may be starting right now.
  if (exists)
    await removeWorktree(ws.repo, ws.path, () =>
      refuseActiveRun(app, taskId, 'discard').then(() => true),
    );
  const commit = await branchCommit(ws.repo, ws.branch);
  if (commit !== null) await deleteBranch(ws.repo, ws.branch);
  await app.store.tx(async (tx) => {
    await updateWorkspace(tx, taskId, { discarded_at: tx.now, removed_at: tx.now });
    await appendEvent(tx, 'workspace.discarded', {
      taskId,
      data: { branch: ws.branch, commit },
    });
  });
  return { ...labels(ws), commit, removedWorktree: exists ? ws.path : null };
}

async function refuseActiveRun(app: App, taskId: number, what: string): Promise<void> {
  const active = await activeRunOfTask(app.store.db, taskId);
  if (active) {
    throw new ConflictError(
      'run_active',
      `${formatTaskId(taskId)} has an active run (${active.id}, ${active.state}): wait for it to end or stop it (\`agentboard stop ${formatTaskId(taskId)}\`), then ${what} again`,
      { activeRun: active.id, state: active.state },
    );
  }
}

async function refuseUncommitted(ws: WorkspaceRow, what: string): Promise<void> {
  if (fs.existsSync(path.join(ws.path, '.git')) && (await hasAnyChanges(ws.path))) {
    throw new ConflictError(
      'workspace_dirty',
      `the worktree of ${formatTaskId(ws.task_id)} (${ws.path}) has uncommitted changes: commit them on ${ws.branch} or remove them before ${what}`,
    );
  }
}
