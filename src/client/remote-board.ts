/**
 * The board through its HTTP API, as an agent inside a run reaches it: with
 * its run's own token (AGENTBOARD_TOKEN) at AGENTBOARD_URL, never with the
 * database. Answers in the API's one error shape become the same typed
 * errors the CLI prints when it opens the board itself.
 */
import type {
  BoardAccess,
  CommentResult,
  TaskDetail,
  TaskList,
  Transcript,
} from '../app/board-access.js';
import type { MessagePage, MessageView } from '../app/messages.js';
import type { TaskInput, TaskPatch } from '../app/tasks.js';
import type { TaskTree } from '../app/tree.js';
import type { RunView, TaskView } from '../app/views.js';
import type { WaitResult } from '../app/wait.js';
import type { ApprovalView } from '../contract/approvals.js';
import { AgentboardError, isApiErrorCode } from '../domain/errors.js';
import { formatTaskId, isRunId } from '../domain/ids.js';

/** One wait request is held this long at most; longer waits ask again (the API caps it at 60 s). */
const WAIT_STEP_MS = 50_000;
const approvalPath = (id: number) => `/api/v1/approvals/${id}`;
const REQUEST_HEADER = 'X-Agentboard-Request';

type Query = Record<string, string | number | boolean | string[] | undefined>;

export function remoteBoard(baseUrl: string, token: string): BoardAccess {
  const call = async <T>(
    method: string,
    path: string,
    o: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> => {
    const url = new URL(`${baseUrl.replace(/\/+$/, '')}${path}`);
    for (const [k, v] of Object.entries(o.query ?? {})) {
      if (v === undefined) continue;
      url.searchParams.set(k, Array.isArray(v) ? v.join(',') : String(v));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (method !== 'GET') headers[REQUEST_HEADER] = '1';
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, {
        method,
        headers,
        ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (e) {
      if (o.signal?.aborted) throw o.signal.reason;
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new AgentboardError(
        'unavailable',
        `cannot reach the board at ${baseUrl} (${cause?.code ?? cause?.message ?? (e as Error).message}): is its server running? Try again in a moment`,
      );
    }
    const text = await res.text();
    let parsed: unknown = null;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      parsed = null;
    }
    if (res.ok) return parsed as T;
    throw apiError(res.status, parsed, baseUrl);
  };
  const ref = (id: number) => formatTaskId(id);
  const refs = (ids: number[] | undefined) => ids?.map(ref);

  return {
    listTasks: async (f) => {
      const page = await call<TaskList>('GET', '/api/v1/tasks', {
        query: {
          status: f.statuses,
          agent: f.agent,
          label: f.label,
          q: f.search,
          parent: f.parentId !== undefined ? ref(f.parentId) : undefined,
          sort: f.sort,
          order: f.order,
          limit: Math.min(f.limit ?? 100, 500),
          offset: f.offset,
        },
      });
      return { items: page.items, counts: page.counts };
    },
    showTask: (id) => call<TaskDetail>('GET', `/api/v1/tasks/${ref(id)}`),
    taskTree: (id) => call<TaskTree>('GET', `/api/v1/tasks/${ref(id)}/tree`),
    addTask: (input: TaskInput) =>
      call<TaskView>('POST', '/api/v1/tasks', {
        body: {
          ...input,
          ...(input.parent != null ? { parent: ref(input.parent) } : {}),
          ...(input.dependsOn ? { dependsOn: refs(input.dependsOn) } : {}),
        },
      }),
    editTask: (id, patch: TaskPatch) =>
      call<TaskView>('PATCH', `/api/v1/tasks/${ref(id)}`, {
        body: {
          ...patch,
          ...(patch.parent != null ? { parent: ref(patch.parent) } : {}),
          ...(patch.addDependsOn ? { addDependsOn: refs(patch.addDependsOn) } : {}),
          ...(patch.removeDependsOn ? { removeDependsOn: refs(patch.removeDependsOn) } : {}),
        },
      }),
    moveTask: (id, status) =>
      call<TaskView>('POST', `/api/v1/tasks/${ref(id)}/move`, { body: { status } }),
    comment: (id, author, body) =>
      call<CommentResult>('POST', `/api/v1/tasks/${ref(id)}/comments`, { body: { author, body } }),
    postMessage: (m) =>
      call<MessageView>('POST', '/api/v1/messages', {
        body: {
          ...(m.taskId !== undefined ? { taskId: ref(m.taskId) } : {}),
          ...(m.runId !== undefined ? { runId: m.runId } : {}),
          type: m.type,
          author: m.author,
          body: m.body,
        },
      }),
    readMessages: (q) =>
      call<MessagePage>('GET', '/api/v1/messages', {
        query: {
          task: q.taskId !== undefined ? ref(q.taskId) : undefined,
          after: q.after,
          limit: q.limit,
        },
      }),
    tailMessages: (q) =>
      call<MessagePage>('GET', '/api/v1/messages', {
        query: { task: q.taskId !== undefined ? ref(q.taskId) : undefined, tail: q.limit },
      }),
    transcript: async (runRef, after, limit) => {
      const runId = isRunId(runRef) ? runRef : await latestRunOf(runRef);
      const run = await call<RunView>('GET', `/api/v1/runs/${runId}`);
      const page = await call<{ items: Transcript['events']; next: number; more: boolean }>(
        'GET',
        `/api/v1/runs/${runId}/events`,
        { query: { after, limit } },
      );
      return {
        run: run.id,
        task: run.task,
        state: run.state,
        errorSummary: run.errorSummary,
        events: page.items,
        next: page.next,
        more: page.more,
      };
    },
    waitForTasks: async (ids, o) => {
      const started = Date.now();
      const deadline = o.timeoutMs === undefined ? Number.POSITIVE_INFINITY : started + o.timeoutMs;
      for (;;) {
        const step = Math.max(0, Math.min(WAIT_STEP_MS, deadline - Date.now()));
        const r = await call<WaitResult>('GET', '/api/v1/wait', {
          query: { tasks: refs(ids), timeoutMs: Math.round(step), reviewOk: o.reviewOk === true },
          ...(o.signal ? { signal: o.signal } : {}),
        });
        if (r.outcome !== 'timeout' || Date.now() >= deadline) {
          return { ...r, waitedMs: Date.now() - started };
        }
      }
    },
    requestApproval: (runId, req) =>
      call<ApprovalView>('POST', `/api/v1/runs/${encodeURIComponent(runId)}/approvals`, {
        body: req,
      }),
    // `signal` ends the wait (a cancelled MCP tool call): the held request is dropped at once.
    waitApproval: async (id: number, timeoutMs: number, signal?: AbortSignal) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const step = Math.max(0, Math.min(WAIT_STEP_MS, deadline - Date.now()));
        const v = await call<ApprovalView>('GET', `${approvalPath(id)}/wait`, {
          query: { timeoutMs: Math.round(step) },
          ...(signal ? { signal } : {}),
        });
        if (v.state !== 'pending' || Date.now() >= deadline) return v;
      }
    },
    listApprovals: async (q) =>
      (
        await call<{ items: ApprovalView[] }>('GET', '/api/v1/approvals', {
          query: {
            state: q.state,
            task: q.taskId !== undefined ? ref(q.taskId) : undefined,
            limit: q.limit,
          },
        })
      ).items,
    allowApproval: (id, o) => call<ApprovalView>('POST', `${approvalPath(id)}/allow`, { body: o }),
    denyApproval: (id, o) => call<ApprovalView>('POST', `${approvalPath(id)}/deny`, { body: o }),
  };

  async function latestRunOf(taskRef: string): Promise<string> {
    const task = await call<TaskDetail>('GET', `/api/v1/tasks/${encodeURIComponent(taskRef)}`);
    const last = task.runs.at(-1);
    if (!last) {
      throw new AgentboardError('not_found', `${task.id} has no runs yet`);
    }
    return last.id;
  }
}

/** The API's `{error:{code,message}}` as the typed error the CLI and MCP show. */
function apiError(status: number, body: unknown, baseUrl: string): AgentboardError {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)
    ?.error;
  const code = typeof e?.code === 'string' ? e.code : '';
  const message = typeof e?.message === 'string' ? e.message : '';
  if (message && isApiErrorCode(code)) {
    const details =
      e?.details && typeof e.details === 'object' ? (e.details as Record<string, unknown>) : {};
    return new AgentboardError(code, message, { details });
  }
  return new AgentboardError(
    'unavailable',
    `the board at ${baseUrl} answered ${status} without an agentboard error: is AGENTBOARD_URL the board's API?`,
  );
}
