import type { FastifyInstance } from 'fastify';
import {
  addSchedule,
  listScheduleViews,
  removeSchedule,
  showSchedule,
} from '../../app/schedules.js';
import { createScheduleBody, noQuery, scheduleParams } from '../../contract/requests.js';
import { scheduleList, scheduleView } from '../../contract/service-views.js';
import { deleted } from '../../contract/views.js';
import type { ServerContext } from '../context.js';

export function scheduleRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/schedules',
    tag: 'schedules',
    summary: 'List schedules with their next tick and what their ticks did',
    query: noQuery,
    response: scheduleList,
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
    response: deleted,
    handler: async ({ params }) => removeSchedule(app, params.id),
  });
}
