/**
 * What the API takes: path parameters, queries and bodies. Requests are
 * strict: an unknown field is an error. Ids arrive as text (`T-42`) and leave
 * the schema as numbers.
 */
import { z } from 'zod';
import {
  CATCH_UP_POLICIES,
  OVERLAP_POLICIES,
  POST_MESSAGE_TYPES,
  PRIORITIES,
  RUN_STATES,
  TASK_STATUSES,
} from './vocabulary.js';

export const taskStatus = z.enum(TASK_STATUSES);
export const runState = z.enum(RUN_STATES);
export const priority = z.enum(PRIORITIES);

/** `T-42`, `t-42` or `42` → 42. */
export const taskRef = z
  .string()
  .max(24)
  .regex(/^(T-?)?[1-9][0-9]{0,15}$/i, 'a task id looks like T-42')
  .transform((s, ctx) => {
    const n = Number(/[0-9]+$/.exec(s.trim())?.[0]);
    // 16 digits can exceed 2^53: such a number would silently name another task.
    if (!Number.isSafeInteger(n)) {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not a task id: use the form T-42` });
      return z.NEVER;
    }
    return n;
  });

/** `S-3` or `3` → 3. */
export const scheduleRef = z
  .string()
  .max(24)
  .regex(/^(S-?)?[1-9][0-9]{0,15}$/i, 'a schedule id looks like S-3')
  .transform((s, ctx) => {
    const n = Number(/[0-9]+$/.exec(s.trim())?.[0]);
    if (!Number.isSafeInteger(n)) {
      ctx.addIssue({ code: 'custom', message: `"${s}" is not a schedule id: it looks like S-3` });
      return z.NEVER;
    }
    return n;
  });

/** `r` + 10 characters of time + 12 of randomness, Crockford base 32, lower case. */
export const runId = z
  .string()
  .max(40)
  .regex(/^r[0-9a-hjkmnp-tv-z]{22}$/, 'a run id looks like r0123456789abcdefghjkmnp');

export const taskParams = z.strictObject({ id: taskRef });
export const runParams = z.strictObject({ id: runId });
export const scheduleParams = z.strictObject({ id: scheduleRef });
export const agentParams = z.strictObject({ name: z.string().min(1).max(64) });

/** `a,b` or a repeated query key, each value checked against `item`. */
export function listOf<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (v) =>
      Array.isArray(v)
        ? v.flatMap((x) => String(x).split(','))
        : typeof v === 'string'
          ? v.split(',')
          : v,
    z.array(item).max(20),
  );
}

/** A whole number in a query string: digits only, so `1e3`, `0x10` and `-1` are refused. */
export const intQuery = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d{1,16}$/, `expected a whole number from ${min} to ${max}`)
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

const cursor = intQuery(0, Number.MAX_SAFE_INTEGER);
const MiB = 1024 * 1024;
const agentName = z.string().min(1).max(64);
const label = z.string().min(1).max(64);
const loop = z.strictObject({
  enabled: z.boolean().optional(),
  maxIterations: z.number().int().min(1).max(1000).optional(),
  delayMs: z.number().int().min(0).max(86_400_000).optional(),
  doneFile: z.string().min(1).max(255).optional(),
});

const taskFields = {
  title: z.string().min(1).max(500),
  body: z.string().max(1_000_000),
  priority,
  agent: agentName.nullable(),
  labels: z.array(label).max(50),
  parent: taskRef.nullable(),
  verifyCommand: z.string().min(1).max(10_000).nullable(),
  loop,
  maxAttempts: z.number().int().min(1).max(100).nullable(),
  maxCostUsd: z.number().min(0).max(1_000_000).nullable(),
};

export const createTaskBody = z.strictObject({
  ...taskFields,
  body: taskFields.body.optional(),
  status: taskStatus.optional(),
  priority: priority.optional(),
  agent: taskFields.agent.optional(),
  labels: taskFields.labels.optional(),
  parent: taskFields.parent.optional(),
  dependsOn: z.array(taskRef).max(100).optional(),
  verifyCommand: taskFields.verifyCommand.optional(),
  loop: loop.optional(),
  maxAttempts: taskFields.maxAttempts.optional(),
  maxCostUsd: taskFields.maxCostUsd.optional(),
});

export const patchTaskBody = z
  .strictObject({
    ...taskFields,
    addDependsOn: z.array(taskRef).max(100),
    removeDependsOn: z.array(taskRef).max(100),
  })
  .partial()
  .refine((p) => Object.keys(p).length > 0, 'send at least one field to change');

export const moveTaskBody = z.strictObject({
  status: taskStatus,
  position: z.number().int().min(0).max(1_000_000).optional(),
});

export const commentBody = z.strictObject({
  body: z.string().min(1).max(1_000_000),
  author: z.string().min(1).max(64).optional(),
});

export const taskListQuery = z.strictObject({
  status: listOf(taskStatus).optional(),
  agent: agentName.optional(),
  label: z.string().min(1).max(64).optional(),
  q: z.string().min(1).max(200).optional(),
  parent: taskRef.optional(),
  sort: z.enum(['board', 'created', 'updated', 'priority']).default('board'),
  order: z.enum(['asc', 'desc']).default('asc'),
  limit: intQuery(1, 500).default(100),
  offset: intQuery(0, 10_000_000).default(0),
});

export const startRunBody = z
  .strictObject({
    agent: agentName.optional(),
    prompt: z.string().min(1).max(1_000_000).optional(),
    fresh: z.boolean().optional(),
  })
  .optional();

export const runListQuery = z.strictObject({
  task: taskRef.optional(),
  state: listOf(runState).optional(),
  agent: agentName.optional(),
  limit: intQuery(1, 1000).default(100),
});

export const logStream = z.enum(['stdout', 'stderr']);

export const logRangeQuery = z.strictObject({
  stream: logStream.default('stdout'),
  offset: intQuery(0, Number.MAX_SAFE_INTEGER).default(0),
  limit: intQuery(1, 8 * MiB).default(MiB),
});

export const logStreamQuery = z.strictObject({
  stream: logStream.default('stdout'),
  offset: cursor.optional(),
});

export const runEventsQuery = z.strictObject({
  after: cursor.default(0),
  limit: intQuery(1, 1000).default(200),
  type: listOf(z.string().min(1).max(32)).optional(),
});

export const eventsQuery = z.strictObject({
  after: cursor.default(0),
  limit: intQuery(1, 1000).default(200),
  task: taskRef.optional(),
});

export const eventStreamQuery = z.strictObject({ after: cursor.optional() });

export const recentEventsQuery = z.strictObject({ limit: intQuery(1, 1000).default(100) });

export const cardsQuery = z.strictObject({
  task: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',') : v),
    z.array(taskRef).min(1).max(500),
  ),
});

export const messagesQuery = z.strictObject({
  task: taskRef.optional(),
  after: cursor.optional(),
  limit: intQuery(1, 1000).default(100),
  /** The last `tail` messages instead of those after a cursor. */
  tail: intQuery(1, 1000).optional(),
});

export const MAX_MESSAGE_AUTHOR = 64;

export const postMessageBody = z.strictObject({
  taskId: taskRef.optional(),
  runId: runId.optional(),
  // RUN_START and RUN_STOP are the engine's own: refused here, as by the CLI and MCP.
  type: z.preprocess(
    (v) => (typeof v === 'string' ? v.trim().toUpperCase() : v),
    z.enum(POST_MESSAGE_TYPES),
  ),
  author: z.string().min(1).max(MAX_MESSAGE_AUTHOR).optional(),
  body: z.string().min(1).max(1_000_000),
});

export const statsQuery = z.strictObject({
  days: intQuery(1, 366).default(30),
  agent: agentName.optional(),
});

/** One wait is held at most this long; a client waiting longer asks again (`task wait` does). */
export const MAX_WAIT_MS = 60_000;

export const waitQuery = z.strictObject({
  tasks: listOf(taskRef).pipe(z.array(z.number()).min(1)),
  timeoutMs: intQuery(0, MAX_WAIT_MS).default(30_000),
  reviewOk: z.enum(['true', 'false']).default('false'),
});

export const createScheduleBody = z.strictObject({
  cron: z.string().min(1).max(200),
  agent: agentName.optional(),
  prompt: z.string().min(1).max(1_000_000),
  task: taskRef.optional(),
  title: z.string().min(1).max(200).optional(),
  catchUp: z.enum(CATCH_UP_POLICIES).optional(),
  catchUpWindowMs: z
    .number()
    .int()
    .min(0)
    .max(366 * 86_400_000)
    .optional(),
  overlap: z.enum(OVERLAP_POLICIES).optional(),
  timezone: z.string().min(1).max(64).optional(),
});

export const mergeBody = z.strictObject({ squash: z.boolean().optional() }).optional();

/** `7d`, `12h`, `30m`, `45s` or bare seconds: what `parseDuration` reads (src/domain/duration.ts). */
const duration = z
  .string()
  .max(20)
  .regex(/^\s*\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)?\s*$/, 'a duration like 7d, 12h or 30m');

export const gcBody = z
  .strictObject({
    olderThan: duration.default('7d'),
    keepFailed: z.boolean().default(false),
    dryRun: z.boolean().default(true),
  })
  .prefault({});

/** A route that takes no query: any query key is an error. */
export const noQuery = z.strictObject({});

export type CreateTaskBody = z.input<typeof createTaskBody>;
export type PatchTaskBody = z.input<typeof patchTaskBody>;
export type MoveTaskBody = z.input<typeof moveTaskBody>;
export type CommentBody = z.input<typeof commentBody>;
export type StartRunBody = z.input<typeof startRunBody>;
export type PostMessageBody = z.input<typeof postMessageBody>;
export type CreateScheduleBody = z.input<typeof createScheduleBody>;
export type GcBody = z.input<typeof gcBody>;
