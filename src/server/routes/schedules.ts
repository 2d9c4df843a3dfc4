import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  addSchedule,
  listScheduleViews,
  removeSchedule,
  showSchedule,
} from '../../app/schedules.js';
import { CATCH_UP_POLICIES, OVERLAP_POLICIES, parseScheduleId } from '../../domain/schedule.js';
import type { ServerContext } from '../context.js';
import { taskRef } from '../schemas.js';

const scheduleRef = z
  .string()
  .max(24)
  .regex(/^(S-?)?[1-9][0-9]{0,15}$/i, 'a schedule id looks like S-3')
  .transform((s) => parseScheduleId(s));

const scheduleParams = z.strictObject({ id: scheduleRef });

const tickCounts = z.object({
  run: z.number(),
  skipped: z.number(),
  waiting: z.number(),
  idle: z.number(),
});

const scheduleView = z.object({
  id: z.string(),
  cron: z.string(),
  timezone: z.string().nullable(),
  agent: z.string().nullable(),
  prompt: z.string(),
  task: z.string().nullable(),
  title: z.string().nullable(),
  catchUp: z.enum(CATCH_UP_POLICIES),
  catchUpWindowMs: z.number(),
  overlap: z.enum(OVERLAP_POLICIES),
  enabled: z.boolean(),
  heartbeat: z.boolean(),
  lastTickAt: z.string().nullable(),
  nextTickAt: z.string().nullable(),
  createdAt: z.string(),
  ticks: tickCounts,
});

const createScheduleBody = z.strictObject({
  cron: z.string().min(1).max(200),
  agent: z.string().min(1).max(64).optional(),
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

export function scheduleRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/schedules',
    tag: 'schedules',
    summary: 'List schedules with their next tick and what their ticks did',
    response: z.object({ items: z.array(scheduleView) }),
    handler: async () => ({ items: await listScheduleViews(app) }),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/schedules/:id',
    tag: 'schedules',
    summary: 'One schedule',
    params: scheduleParams,
    response: scheduleView,
    handler: async ({ params }) => showSchedule(app, params.id),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/schedules',
    tag: 'schedules',
    summary: 'Add a schedule: a task (or a run on `task`) for each cron tick',
    body: createScheduleBody,
    status: 201,
    response: scheduleView,
    handler: async ({ body }) =>
      addSchedule(app, {
        cron: body.cron,
        agent: body.agent ?? null,
        prompt: body.prompt,
        taskId: body.task ?? null,
        title: body.title ?? null,
        ...(body.catchUp ? { catchUp: body.catchUp } : {}),
        ...(body.catchUpWindowMs !== undefined ? { catchUpWindowMs: body.catchUpWindowMs } : {}),
        ...(body.overlap ? { overlap: body.overlap } : {}),
        timezone: body.timezone ?? null,
      }),
  });

  routes.add(f, {
    method: 'DELETE',
    url: '/api/v1/schedules/:id',
    tag: 'schedules',
    summary: 'Remove a schedule (the tasks and runs it created stay)',
    params: scheduleParams,
    response: z.object({ id: z.string(), deleted: z.literal(true) }),
    handler: async ({ params }) => removeSchedule(app, params.id),
  });
}
