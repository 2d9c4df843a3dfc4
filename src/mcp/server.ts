/**
 * The board as MCP tools (`agentboard mcp`, stdio). Each tool is a thin
 * layer over the board access the CLI uses (app/board-access.ts): zod checks
 * the input, one service call does the work, the result goes back as JSON
 * text. A refused request (AgentboardError) is an MCP tool error carrying the
 * same message the CLI would print, prefixed by its code.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { BoardAccess } from '../app/board-access.js';
import { messageTypeProblem, POST_MESSAGE_TYPES } from '../app/messages.js';
import { VERSION } from '../contract/version.js';
import { AgentboardError } from '../domain/errors.js';
import { parseTaskId } from '../domain/ids.js';
import type { Redactor } from '../domain/redact.js';
import { PRIORITIES, TASK_STATUSES } from '../domain/task.js';
import { registerApprovalPrompt } from './approval-prompt.js';
import { registerApprovalTools } from './approval-tools.js';

const taskId = z
  .string()
  .regex(/^(T-?)?[1-9][0-9]{0,15}$/i, 'a task id looks like T-42')
  .describe('a task id, e.g. T-42');
const agent = z.string().min(1).max(64);
const text = z.string().min(1).max(1_000_000);
const MAX_WAIT_S = 3600;

export interface McpOptions {
  /** Every answer, a refusal included, passes it: the board's one redactor. */
  redact: Redactor;
  /** Where tool calls come from: an agent's run sets these (the environment contract). */
  env?: NodeJS.ProcessEnv;
  version?: string;
}

/** The tools over a board opened here, or reached through the API with a run's token (board-access.ts). */
export function createMcpServer(board: BoardAccess, o: McpOptions): McpServer {
  const env = o.env ?? process.env;
  const author = env.AGENTBOARD_AUTHOR || env.AGENTBOARD_AGENT || 'mcp';
  const redact = o.redact;
  const server = new McpServer({ name: 'agentboard', version: o.version ?? VERSION });
  const ok = (value: unknown): CallToolResult => ({
    content: [{ type: 'text', text: redact.text(JSON.stringify(redact.value(value), null, 2)) }],
  });
  // Refusals become tool errors the model can read and act on; anything else is a bug.
  const tool = <A>(run: (args: A, signal: AbortSignal) => Promise<unknown>) => {
    return async (args: A, extra: { signal: AbortSignal }): Promise<CallToolResult> => {
      try {
        return ok(await run(args, extra.signal));
      } catch (e) {
        if (!(e instanceof AgentboardError)) throw e;
        return {
          isError: true,
          content: [{ type: 'text', text: redact.text(`${e.code}: ${e.message}`) }],
        };
      }
    };
  };

  server.registerTool(
    'list_tasks',
    {
      description: 'List tasks on the board, filtered; board order (column, then position).',
      inputSchema: {
        status: z.array(z.enum(TASK_STATUSES)).max(7).optional(),
        agent: agent.optional(),
        label: z.string().min(1).max(64).optional(),
        search: z.string().min(1).max(200).optional(),
        parent: taskId.optional().describe('only subtasks of this task'),
        limit: z.number().int().min(1).max(500).default(100),
      },
    },
    tool(
      async (a) =>
        (
          await board.listTasks({
            statuses: a.status,
            agent: a.agent,
            label: a.label,
            search: a.search,
            parentId: a.parent ? parseTaskId(a.parent) : undefined,
            limit: a.limit,
          })
        ).items,
    ),
  );

  server.registerTool(
    'get_task',
    {
      description: 'One task with its comments, runs, subtasks and the dependencies it waits on.',
      inputSchema: { id: taskId },
    },
    tool(async (a) => board.showTask(parseTaskId(a.id))),
  );

  server.registerTool(
    'create_task',
    {
      description:
        'Create a task. With `parent` it is a subtask (the parent cannot be Done before it); with an agent and in Todo it starts at once when autostart is on.',
      inputSchema: {
        title: z.string().min(1).max(500),
        body: text.optional(),
        agent: agent.optional(),
        priority: z.enum(PRIORITIES).optional(),
        labels: z.array(z.string().min(1).max(64)).max(50).optional(),
        parent: taskId.optional(),
        dependsOn: z.array(taskId).max(100).optional(),
        status: z.enum(['backlog', 'todo', 'review', 'done', 'blocked']).optional(),
      },
    },
    tool(async (a) =>
      board.addTask({
        title: a.title,
        ...(a.body !== undefined ? { body: a.body } : {}),
        ...(a.agent !== undefined ? { agent: a.agent } : {}),
        ...(a.priority ? { priority: a.priority } : {}),
        ...(a.labels ? { labels: a.labels } : {}),
        ...(a.parent ? { parent: parseTaskId(a.parent) } : {}),
        ...(a.dependsOn ? { dependsOn: a.dependsOn.map(parseTaskId) } : {}),
        ...(a.status ? { status: a.status } : {}),
      }),
    ),
  );

  server.registerTool(
    'update_task',
    {
      description:
        'Change a task’s fields and/or move it to another column (`status`; the fields are changed first).',
      inputSchema: {
        id: taskId,
        title: z.string().min(1).max(500).optional(),
        body: z.string().max(1_000_000).optional(),
        agent: agent.nullable().optional(),
        priority: z.enum(PRIORITIES).optional(),
        labels: z.array(z.string().min(1).max(64)).max(50).optional(),
        addDependsOn: z.array(taskId).max(100).optional(),
        removeDependsOn: z.array(taskId).max(100).optional(),
        status: z.enum(TASK_STATUSES).optional(),
      },
    },
    tool(async ({ id, status, addDependsOn, removeDependsOn, ...fields }) => {
      const n = parseTaskId(id);
      const patch = {
        ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
        ...(addDependsOn ? { addDependsOn: addDependsOn.map(parseTaskId) } : {}),
        ...(removeDependsOn ? { removeDependsOn: removeDependsOn.map(parseTaskId) } : {}),
      };
      let view = Object.keys(patch).length > 0 ? await board.editTask(n, patch) : undefined;
      if (status) view = await board.moveTask(n, status);
      return view ?? board.showTask(n);
    }),
  );

  server.registerTool(
    'comment',
    {
      description:
        'Comment on a task. Mentioning a configured agent (@name) queues a run of it on the task with the comment as its prompt.',
      inputSchema: { id: taskId, body: text, author: agent.optional() },
    },
    tool(async (a) => board.comment(parseTaskId(a.id), a.author ?? author, a.body)),
  );

  server.registerTool(
    'bus_post',
    {
      description:
        'Post to the message bus: about a task, or the board. Inside a run, a post without a task is about that run.',
      inputSchema: {
        // RUN_START and RUN_STOP are the engine's own: refused with the same words as the CLI's.
        type: z.enum(POST_MESSAGE_TYPES, {
          error: (iss) =>
            typeof iss.input === 'string'
              ? (messageTypeProblem(iss.input) ?? undefined)
              : undefined,
        }),
        body: z
          .string()
          .min(1)
          .max(64 * 1024),
        task: taskId.optional(),
        board: z.boolean().optional().describe('about the whole board, even inside a run'),
        author: agent.optional(),
      },
    },
    tool(async (a) => {
      const runId = !a.task && !a.board ? env.AGENTBOARD_RUN_ID || undefined : undefined;
      return board.postMessage({
        ...(a.task ? { taskId: parseTaskId(a.task) } : {}),
        ...(runId ? { runId } : {}),
        type: a.type,
        author: a.author ?? author,
        body: a.body,
      });
    }),
  );

  server.registerTool(
    'bus_read',
    {
      description:
        'Read bus messages oldest first, after a cursor (`after`, the last id seen; `next` in the result), or the last `tail` ones.',
      inputSchema: {
        task: taskId.optional(),
        after: z.number().int().min(0).optional(),
        tail: z.number().int().min(1).max(1000).optional(),
        limit: z.number().int().min(1).max(1000).default(100),
      },
    },
    tool(async (a) => {
      const id = a.task ? parseTaskId(a.task) : undefined;
      if (a.tail !== undefined && a.after === undefined)
        return board.tailMessages({ taskId: id, limit: a.tail });
      return board.readMessages({ taskId: id, after: a.after ?? 0, limit: a.limit });
    }),
  );

  server.registerTool(
    'get_run_transcript',
    {
      description:
        'A run’s normalized transcript (messages, tool calls and results, errors, usage) after a cursor. `run` is a run id or a task id (its latest run).',
      inputSchema: {
        run: z.string().min(1).max(40),
        after: z.number().int().min(0).default(0),
        limit: z.number().int().min(1).max(1000).default(200),
      },
    },
    tool(async (a) => board.transcript(a.run, a.after, a.limit)),
  );

  server.registerTool(
    'wait_for_task',
    {
      description:
        'Wait until the tasks are Done (outcome "done"), one is Blocked or Cancelled ("failed"), or the timeout passes ("timeout").',
      inputSchema: {
        ids: z.array(taskId).min(1).max(100),
        timeoutSeconds: z
          .number()
          .min(0)
          .max(MAX_WAIT_S)
          .default(50)
          .describe('many clients time a call out after 60 s: wait in steps and call again'),
        reviewOk: z.boolean().optional().describe('a task in Review counts as finished'),
      },
    },
    tool(async (a, signal) =>
      board.waitForTasks(a.ids.map(parseTaskId), {
        timeoutMs: a.timeoutSeconds * 1000,
        reviewOk: a.reviewOk === true,
        signal,
      }),
    ),
  );

  registerApprovalTools(server, board, tool, author);
  registerApprovalPrompt(server, board, redact);
  return server;
}
