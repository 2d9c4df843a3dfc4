import {
  MESSAGE_TYPES,
  type MessageType,
  POST_MESSAGE_TYPES,
  SYSTEM_MESSAGE_TYPES,
} from '../contract/vocabulary.js';
import { NotFoundError, UsageError } from '../domain/errors.js';
import { formatTaskId } from '../domain/ids.js';
import { appendEvent } from '../store/events.js';
import {
  insertMessage,
  lastMessageId,
  type MessageRow,
  type NewMessage,
  readLatestMessages,
  readMessages as readMessageRows,
} from '../store/messages.js';
import { getRun } from '../store/runs.js';
import type { Tx } from '../store/store.js';
import { getTask } from '../store/tasks.js';
import type { App } from './context.js';
import { requireTask, taskNotFound } from './task-lookup.js';

export type { MessageType };
// The bus's words are the contract's: one list for the API, the CLI, MCP and the web.
export { MESSAGE_TYPES, POST_MESSAGE_TYPES, SYSTEM_MESSAGE_TYPES };
export type PostMessageType = (typeof POST_MESSAGE_TYPES)[number];
export type SystemMessageType = (typeof SYSTEM_MESSAGE_TYPES)[number];

/** A message is a note, not a log: larger output belongs in the run's files. */
export const MAX_MESSAGE_BYTES = 64 * 1024;
export const MAX_AUTHOR = 64;
/** How much of the body the `message.posted` event carries, for feeds. */
const PREVIEW_CHARS = 280;

export interface MessageInput {
  /** The task the message is about; implied by `runId` when omitted. */
  taskId?: number;
  runId?: string;
  /** One of POST_MESSAGE_TYPES, in any case: the system types are refused. */
  type: string;
  author: string;
  body: string;
}

export interface MessageView {
  id: number;
  taskId: string | null;
  runId: string | null;
  type: MessageType;
  author: string;
  body: string;
  createdAt: string;
}

export interface MessagePage {
  items: MessageView[];
  /** The cursor to pass as `after` next time. */
  next: number;
  /** Whether the page was full: more may follow at once. */
  more: boolean;
}

/**
 * Posts a message to the bus. The `message.posted` event is appended in the
 * same transaction, so the board feed carries it exactly when it exists.
 */
export async function postMessage(app: App, input: MessageInput): Promise<MessageView> {
  const type = postableMessageType(input.type);
  const author = input.author.trim();
  if (!author || author.length > MAX_AUTHOR) {
    throw new UsageError(`a message needs an author of 1 to ${MAX_AUTHOR} characters`, {
      field: 'author',
    });
  }
  if (!input.body.trim()) throw new UsageError('a message needs text', { field: 'body' });
  const bytes = Buffer.byteLength(input.body, 'utf8');
  if (bytes > MAX_MESSAGE_BYTES) {
    throw new UsageError(
      `the message is ${bytes} bytes, over the ${MAX_MESSAGE_BYTES}-byte limit: post a summary and leave the detail in a file`,
      { field: 'body' },
    );
  }
  return app.store.tx(async (tx) => {
    let taskId = input.taskId ?? null;
    if (input.runId !== undefined) {
      const run = await getRun(tx.db, input.runId);
      if (!run) throw new NotFoundError('run', input.runId, 'list runs with `agentboard runs`');
      if (taskId !== null && run.task_id !== taskId) {
        throw new UsageError(
          `run ${run.id} belongs to ${formatTaskId(run.task_id)}, not ${formatTaskId(taskId)}: drop one of them`,
          { field: 'runId' },
        );
      }
      taskId = run.task_id;
    }
    if (taskId !== null) await requireTask(tx, taskId);
    return messageView(
      await postMessageInTx(tx, {
        taskId,
        runId: input.runId ?? null,
        type,
        author,
        body: input.body,
      }),
    );
  });
}

/**
 * Inserts a checked message and its `message.posted` event in the caller's
 * transaction: the engine posts RUN_START / RUN_STOP with the run's own change.
 */
export async function postMessageInTx(tx: Tx, m: NewMessage): Promise<MessageRow> {
  const row = await insertMessage(tx, m);
  await appendEvent(tx, 'message.posted', {
    taskId: m.taskId,
    runId: row.run_id,
    data: {
      messageId: row.id,
      type: m.type,
      author: m.author,
      preview: m.body.slice(0, PREVIEW_CHARS),
    },
  });
  return row;
}

/** Messages after the cursor, oldest first: the whole board's, or one task's. */
export async function readMessages(
  app: App,
  o: { taskId?: number; after: number; limit: number },
): Promise<MessagePage> {
  if (o.taskId !== undefined && !(await getTask(app.store.db, o.taskId))) {
    throw taskNotFound(o.taskId);
  }
  const rows = await readMessageRows(app.store.db, o);
  return {
    items: rows.map(messageView),
    next: rows.at(-1)?.id ?? o.after,
    more: rows.length === o.limit,
  };
}

/** The last `limit` messages, oldest first; `next` is the cursor to follow on from. */
export async function tailMessages(
  app: App,
  o: { taskId?: number; limit: number },
): Promise<MessagePage> {
  if (o.taskId !== undefined && !(await getTask(app.store.db, o.taskId))) {
    throw taskNotFound(o.taskId);
  }
  const rows = await readLatestMessages(app.store.db, o);
  const next = rows.at(-1)?.id ?? (await lastMessageId(app.store.db));
  return { items: rows.map(messageView), next, more: false };
}

/** Why `raw` cannot be posted, or null when it can: the one wording for the CLI, API and MCP. */
export function messageTypeProblem(raw: string): string | null {
  const t = raw.trim().toUpperCase();
  if ((POST_MESSAGE_TYPES as readonly string[]).includes(t)) return null;
  const use = `use one of ${POST_MESSAGE_TYPES.join(', ')}`;
  if ((SYSTEM_MESSAGE_TYPES as readonly string[]).includes(t)) {
    return `${t} is reserved: the board posts it itself when a run starts or stops, so no one else may; ${use}`;
  }
  return `unknown message type "${raw}": ${use}`;
}

/** The type a client may post, upper-cased; a UsageError (400 `invalid_input`) otherwise. */
export function postableMessageType(raw: string): PostMessageType {
  const problem = messageTypeProblem(raw);
  if (problem) throw new UsageError(problem, { field: 'type' });
  return raw.trim().toUpperCase() as PostMessageType;
}

export function messageView(m: MessageRow): MessageView {
  return {
    id: m.id,
    taskId: m.task_id === null ? null : formatTaskId(m.task_id),
    runId: m.run_id,
    type: m.type,
    author: m.author,
    body: m.body,
    createdAt: new Date(m.created_at).toISOString(),
  };
}
