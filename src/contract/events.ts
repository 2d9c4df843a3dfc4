/**
 * Each board event's payload (the `data` of an event row and of the SSE
 * frame). `appendEvent` takes `EventData<T>` for its type, so an unknown
 * type or a payload of the wrong shape does not compile; clients may parse
 * a frame's data with `EVENT_PAYLOADS[type]`.
 */
import { z } from 'zod';
import type { EventType } from './event-types.js';
import {
  APPROVAL_STATES,
  MESSAGE_TYPES,
  REVIEW_VERDICTS,
  RUN_STATES,
  RUN_TRIGGERS,
  STOP_ACTIONS,
  TASK_STATUSES,
  TICK_OUTCOMES,
} from './vocabulary.js';

const taskStatus = z.enum(TASK_STATUSES);
const takeover = z.object({ from: z.string().nullable(), to: z.string() });

export const EVENT_PAYLOADS = {
  'task.created': z.object({
    title: z.string(),
    status: taskStatus,
    /** The schedule whose tick made the task. */
    schedule: z.string().optional(),
  }),
  /** `fields` names what changed, in the API's words (e.g. `statusReason`). */
  'task.updated': z.object({ fields: z.array(z.string()) }),
  'task.moved': z.object({
    from: taskStatus,
    to: taskStatus,
    position: z.number().optional(),
    reason: z.string().nullable().optional(),
  }),
  'task.deleted': z.object({ title: z.string() }),
  'task.commented': z.object({ commentId: z.number(), author: z.string() }),
  'task.todo_timeout': z.object({
    action: z.string(),
    reason: z.string(),
    waitedMs: z.number(),
    blockedBy: z.string().nullable(),
    reassignedTo: z.string().nullable(),
    escalationTask: z.string().nullable(),
  }),
  'run.queued': z.object({
    agent: z.string(),
    attempt: z.number(),
    iteration: z.number(),
    /** Epoch ms the run may start at. */
    runAt: z.number(),
    trigger: z.enum(RUN_TRIGGERS),
  }),
  'run.started': z.object({ agent: z.string(), pid: z.number(), attempt: z.number() }),
  'run.finished': z.object({
    state: z.enum(RUN_STATES),
    exitCode: z.number().nullable().optional(),
    reason: z.string().nullable().optional(),
  }),
  'run.stop_requested': z.object({ reason: z.string(), action: z.enum(STOP_ACTIONS) }),
  /** Another worker took over a run whose worker had died; `from`/`to` are worker ids. */
  'run.adopted': takeover,
  'run.reconciled': takeover,
  'run.released': z.object({ reason: z.string() }),
  'run.queue_timeout': z.object({
    action: z.string(),
    waitedMs: z.number(),
    reassignedTo: z.string().nullable(),
    escalationTask: z.string().nullable(),
    reason: z.string().nullable().optional(),
  }),
  'message.posted': z.object({
    messageId: z.number(),
    type: z.enum(MESSAGE_TYPES),
    author: z.string(),
    /** The start of the body; the message itself is at /api/v1/messages. */
    preview: z.string(),
  }),
  'approval.requested': z.object({
    approvalId: z.number(),
    tool: z.string(),
    /** One line: the command, the file, or the tool. */
    preview: z.string(),
  }),
  'approval.decided': z.object({
    approvalId: z.number(),
    tool: z.string(),
    state: z.enum(APPROVAL_STATES),
    by: z.string(),
    rule: z.string().nullable().optional(),
  }),
  'review.submitted': z.object({
    reviewId: z.number(),
    verdict: z.enum(REVIEW_VERDICTS),
    comments: z.number(),
    run: z.string().nullable(),
  }),
  'schedule.created': z.object({
    scheduleId: z.string(),
    cron: z.string(),
    agent: z.string().nullable(),
    heartbeat: z.boolean().optional(),
  }),
  'schedule.deleted': z.object({ scheduleId: z.string() }),
  'schedule.ticked': z.object({
    scheduleId: z.string(),
    ticks: z.array(
      z.object({ tick: z.string(), outcome: z.enum(TICK_OUTCOMES), run: z.string().optional() }),
    ),
  }),
  'workspace.created': z.object({ path: z.string(), branch: z.string(), base: z.string() }),
  'workspace.merged': z.object({
    branch: z.string(),
    base: z.string(),
    commit: z.string(),
    squash: z.boolean(),
  }),
  'workspace.discarded': z.object({ branch: z.string(), commit: z.string().nullable() }),
  'workspace.pushed': z.object({ branch: z.string(), remote: z.string(), commit: z.string() }),
  'workspace.pull_request': z.object({ branch: z.string(), url: z.string() }),
  'workspace.removed': z.object({ path: z.string(), by: z.literal('gc') }),
  'gc.pruned': z.object({
    eventsThrough: z.number(),
    messagesThrough: z.number(),
    /** Rows older than this went. */
    before: z.string(),
    rows: z.record(z.string(), z.number()),
  }),
} as const satisfies Record<EventType, z.ZodType>;

/** What `appendEvent` takes as the payload of an event of type `T`. */
export type EventData<T extends EventType> = z.input<(typeof EVENT_PAYLOADS)[T]>;
