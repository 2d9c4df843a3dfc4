/**
 * Publishing a task's branch: push it to `board.remote`, and open a pull
 * request with `board.pr_command`. What was pushed, and the pull request's
 * URL, are recorded only once the command has succeeded.
 */
import type { PullRequestResult, PushResult } from '../contract/review.js';
import { AgentboardError } from '../domain/errors.js';
import { formatTaskId } from '../domain/ids.js';
import { appendEvent } from '../store/events.js';
import { getPullRequest, savePullRequest } from '../store/reviews.js';
import { getTask, type TaskRow } from '../store/tasks.js';
import type { WorkspaceRow } from '../store/workspaces.js';
import { firstLine } from '../workspace/git.js';
import { lastUrl, prArgv, pushBranch, runCommand } from '../workspace/push.js';
import { branchCommit } from '../workspace/repo.js';
import type { App } from './context.js';
import { workspaceOf } from './workspaces.js';

/** How long `board.pr_command` may take (it talks to a forge over the network). */
export const PR_COMMAND_TIMEOUT_MS = 60_000;

/** Pushes the task branch to `board.remote` as the branch of the same name. */
export async function pushTask(app: App, taskId: number): Promise<PushResult> {
  const remote = app.config.board.remote;
  if (!remote) {
    throw new AgentboardError(
      'remote_not_configured',
      `board.remote is not set, so there is nowhere to push ${formatTaskId(taskId)}'s branch: set it in config.yaml to a git remote of the repository (e.g. \`board: { remote: origin }\`), then push again`,
    );
  }
  const ws = await workspaceOf(app, taskId);
  const commit = await headOf(ws);
  await pushBranch(ws.repo, remote, ws.branch);
  await app.store.tx(async (tx) => {
    await savePullRequest(tx, taskId, {
      branch: ws.branch,
      remote,
      pushed_commit: commit,
      pushed_at: tx.now,
    });
    await appendEvent(tx, 'workspace.pushed', {
      taskId,
      data: { branch: ws.branch, remote, commit },
    });
  });
  return { task: formatTaskId(taskId), branch: ws.branch, remote, commit };
}

/**
 * Opens a pull request for the task branch: pushes it first when a remote
 * is set and its head is not there yet, then runs `board.pr_command` in the
 * repository. The last http(s) URL it prints on stdout is the pull request.
 */
export async function openPullRequest(app: App, taskId: number): Promise<PullRequestResult> {
  const command = app.config.board.pr_command;
  if (!command) {
    throw new AgentboardError(
      'pr_command_not_configured',
      `board.pr_command is not set, so there is no command to open a pull request for ${formatTaskId(taskId)} with: set it in config.yaml, e.g. \`pr_command: [gh, pr, create, --fill, --head, "{branch}", --base, "{base}"]\``,
    );
  }
  const ws = await workspaceOf(app, taskId);
  const task = (await getTask(app.store.db, taskId)) as TaskRow;
  const remote = app.config.board.remote ?? '';
  if (remote) {
    const pushed = await getPullRequest(app.store.db, taskId);
    const head = await headOf(ws);
    if (pushed?.branch !== ws.branch || pushed.remote !== remote || pushed.pushed_commit !== head)
      await pushTask(app, taskId);
  }
  const argv = prArgv(command, {
    branch: ws.branch,
    base: ws.base_branch,
    title: task.title,
    remote,
  });
  const r = await runCommand(argv, { cwd: ws.repo, timeoutMs: PR_COMMAND_TIMEOUT_MS });
  const url = r.code === 0 ? lastUrl(r.stdout) : null;
  if (url === null) throw prFailure(argv[0] as string, r);
  await app.store.tx(async (tx) => {
    await savePullRequest(tx, taskId, { branch: ws.branch, url, opened_at: tx.now });
    await appendEvent(tx, 'workspace.pull_request', { taskId, data: { branch: ws.branch, url } });
  });
  return { task: formatTaskId(taskId), branch: ws.branch, url };
}

function prFailure(program: string, r: Awaited<ReturnType<typeof runCommand>>): AgentboardError {
  const how = r.timedOut
    ? `did not finish within ${PR_COMMAND_TIMEOUT_MS / 1000} s and was stopped`
    : r.code === 0
      ? 'exited with 0 but printed no http(s) URL on stdout'
      : `exited with ${r.code ?? r.signal}`;
  return new AgentboardError(
    'pr_command_failed',
    `board.pr_command (${program}) ${how}: ${firstLine(r.stderr)}. No pull request was recorded: fix the command (run it by hand in the repository to see why), then try again`,
    { details: { exit: r.code, signal: r.signal, timedOut: r.timedOut } },
  );
}

async function headOf(ws: WorkspaceRow): Promise<string> {
  const head = await branchCommit(ws.repo, ws.branch);
  if (head === null) {
    throw new AgentboardError(
      'branch_missing',
      `the branch ${ws.branch} of ${formatTaskId(ws.task_id)} no longer exists in ${ws.repo}: there is nothing to push`,
    );
  }
  return head;
}
