/**
 * What the CLI's and MCP's task and bus commands do to a board, as one
 * interface with two ways in: this process opening the board itself (the
 * owner, on this machine), or an agent inside a run going through the API
 * with its run's token (client/remote-board.ts). A command is written once,
 * against this, and behaves the same either way.
 */

import type { ApprovalView } from '../contract/approvals.js';
import type { TaskDetail } from '../contract/views.js';
import type { ApprovalState } from '../contract/vocabulary.js';
import { formatTaskId } from '../domain/ids.js';
import type { RunState } from '../domain/run.js';
import type { TaskStatus } from '../domain/task.js';
import { readRunEvents } from '../store/run-events.js';
import { countTasksByStatus, type TaskFilter } from '../store/tasks.js';
import { waitApproval } from './approval-wait.js';
import { allowApproval, denyApproval, listApprovals, requestApproval } from './approvals.js';
import type { App } from './context.js';
import {
  type MessageInput,
  type MessagePage,
  type MessageView,
  postMessage,
  readMessages,
  tailMessages,
} from './messages.js';
import { showTask } from './read-task.js';
import { assertOutputKept } from './run-output.js';
import { resolveRun } from './runs.js';
import {
  addTask,
  commentOnTask,
  editTask,
  listTaskViews,
  moveTask,
  type TaskInput,
  type TaskPatch,
} from './tasks.js';
import { type TaskTree, taskTree } from './tree.js';
import type { TaskView } from './views.js';
import { type WaitOptions, type WaitResult, waitForTasks } from './wait.js';

export type { TaskDetail };
export type CommentResult = Awaited<ReturnType<typeof commentOnTask>>;

export interface TaskList {
  items: TaskView[];
  /** Cards per column for the filter (ignoring its statuses and limit). */
  counts: Record<string, number>;
}

export interface Transcript {
  run: string;
  task: string;
  state: RunState;
  errorSummary: string | null;
  events: ({ seq: number; at: string } & Record<string, unknown>)[];
  next: number;
  more: boolean;
}

export interface BoardAccess {
  listTasks(filter: TaskFilter): Promise<TaskList>;
  showTask(id: number): Promise<TaskDetail>;
  taskTree(id: number): Promise<TaskTree>;
  addTask(input: TaskInput): Promise<TaskView>;
  editTask(id: number, patch: TaskPatch): Promise<TaskView>;
  moveTask(id: number, status: TaskStatus): Promise<TaskView>;
  comment(id: number, author: string, body: string): Promise<CommentResult>;
  postMessage(input: MessageInput): Promise<MessageView>;
  readMessages(q: { taskId?: number; after: number; limit: number }): Promise<MessagePage>;
  tailMessages(q: { taskId?: number; limit: number }): Promise<MessagePage>;
  /** `run`: a run id, or a task id for its latest run. */
  transcript(run: string, after: number, limit: number): Promise<Transcript>;
  waitForTasks(ids: number[], o: WaitOptions): Promise<WaitResult>;
  /** A tool use the run's agent asks a person to decide (only a run's own token, for its own run). */
  requestApproval(
    runId: string,
    req: { tool: string; input: Record<string, unknown>; toolUseId?: string },
  ): Promise<ApprovalView>;
  /** The request once decided, or still pending when `timeoutMs` passes. */
  /** `signal`: the waiter gave up (a cancelled tool call): the wait ends at once. */
  waitApproval(id: number, timeoutMs: number, signal?: AbortSignal): Promise<ApprovalView>;
  listApprovals(q: {
    state?: ApprovalState;
    taskId?: number;
    limit?: number;
  }): Promise<ApprovalView[]>;
  allowApproval(
    id: number,
    o: { always?: boolean; rule?: string; by?: string },
  ): Promise<ApprovalView>;
  denyApproval(id: number, o: { message: string; by?: string }): Promise<ApprovalView>;
  /**
   * A cheap "did anything change since the last call?", where the board has
   * one (SQLite's data_version); absent, a follower just asks again.
   */
  changeProbe?(): (() => boolean) | null;
}

/** The board opened by this process. */
export function localBoard(app: App): BoardAccess {
  return {
    listTasks: async (filter) => {
      const [items, counts] = await Promise.all([
        listTaskViews(app, filter),
        countTasksByStatus(app.store.db, filter),
      ]);
      return { items, counts };
    },
    showTask: (id) => showTask(app, id),
    taskTree: (id) => taskTree(app, id),
    addTask: (input) => addTask(app, input),
    editTask: (id, patch) => editTask(app, id, patch),
    moveTask: (id, status) => moveTask(app, id, status),
    comment: (id, author, body) => commentOnTask(app, id, author, body),
    postMessage: (input) => postMessage(app, input),
    readMessages: (q) => readMessages(app, q),
    tailMessages: (q) => tailMessages(app, q),
    transcript: async (ref, after, limit) => {
      const run = await resolveRun(app, ref);
      assertOutputKept(run, 'transcript');
      const events = await readRunEvents(app.store.db, run.id, { afterSeq: after, limit });
      return {
        run: run.id,
        task: formatTaskId(run.task_id),
        state: run.state,
        errorSummary: run.error_summary,
        events: events.map((e) => ({
          seq: e.seq,
          at: new Date(e.createdAt).toISOString(),
          ...e.event,
        })),
        next: events.at(-1)?.seq ?? after,
        more: events.length === limit,
      };
    },
    waitForTasks: (ids, o) => waitForTasks(app, ids, o),
    requestApproval: (runId, req) => requestApproval(app, runId, req),
    waitApproval: (id, timeoutMs, signal) => waitApproval(app, id, timeoutMs, signal),
    listApprovals: (q) => listApprovals(app, q),
    allowApproval: (id, o) => allowApproval(app, id, o),
    denyApproval: (id, o) => denyApproval(app, id, o),
    changeProbe: () => {
      let seen = app.store.dataVersion();
      if (seen === null) return null;
      return () => {
        const now = app.store.dataVersion();
        const changed = now !== seen;
        seen = now;
        return changed;
      };
    },
  };
}
