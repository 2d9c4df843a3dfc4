import { z } from 'zod';
import { isRunId, parseTaskId } from '../domain/ids.js';
import { RUN_STATES } from '../domain/run.js';
import { PRIORITIES, TASK_STATUSES } from '../domain/task.js';

/** Request and response shapes shared by the routes. Requests are strict: unknown fields are errors. */

export const taskRef = z
  .string()
  .max(24)
  .regex(/^(T-?)?[1-9][0-9]{0,15}$/i, 'a task id looks like T-42')
  .transform((s, ctx) => {
    try {
      return parseTaskId(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

export const taskParams = z.strictObject({ id: taskRef });

export const runParams = z.strictObject({
  id: z.string().max(40).refine(isRunId, 'a run id looks like r0123456789abcdefghjkmnp'),
});

export const taskStatus = z.enum(TASK_STATUSES);
export const runState = z.enum(RUN_STATES);
export const priority = z.enum(PRIORITIES);

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
  agent: z.string().min(1).max(64).nullable(),
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

export const startRunBody = z
  .strictObject({
    agent: z.string().min(1).max(64).optional(),
    prompt: z.string().min(1).max(1_000_000).optional(),
    fresh: z.boolean().optional(),
  })
  .optional();

export const taskView = z.looseObject({
  id: z.string(),
  title: z.string(),
  body: z.string(),
  status: taskStatus,
  statusReason: z.string().nullable(),
  priority,
  position: z.number(),
  agent: z.string().nullable(),
  labels: z.array(z.string()),
  parent: z.string().nullable(),
  dependsOn: z.array(z.string()),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const runView = z.looseObject({
  id: z.string(),
  task: z.string(),
  agent: z.string(),
  state: runState,
  attempt: z.number(),
  maxAttempts: z.number(),
  exitCode: z.number().nullable(),
  errorSummary: z.string().nullable(),
  costUsd: z.number(),
  notice: z.string().nullable(),
  denials: z.number(),
  unparsedLines: z.number(),
  cliVersion: z.string().nullable(),
  /** Claimed or running, its lease expired, and no engine alive to look after it. */
  unsupervised: z.boolean(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
});

export const page = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    total: z.number(),
    offset: z.number(),
    nextOffset: z.number().nullable(),
  });
