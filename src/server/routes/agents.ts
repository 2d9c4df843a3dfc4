import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { agentReports } from '../../app/agents.js';
import { NotFoundError } from '../../domain/errors.js';
import type { ServerContext } from '../context.js';

const agentView = z.looseObject({
  name: z.string(),
  kind: z.string(),
  command: z.string(),
  path: z.string().nullable(),
  version: z.string().nullable(),
  versionOk: z.boolean().nullable(),
  versionStatus: z.enum(['tested', 'older', 'newer', 'unknown']),
  minVersion: z.string().nullable(),
  maxVersion: z.string().nullable(),
  credentials: z.object({ ok: z.boolean(), source: z.string() }),
  problems: z.array(z.string()),
  warnings: z.array(z.string()),
  canRun: z.boolean(),
  inUse: z.boolean(),
  running: z.number(),
  maxConcurrency: z.number(),
  usage: z.object({
    runs: z.number(),
    tokensIn: z.number(),
    tokensOut: z.number(),
    costUsd: z.number(),
  }),
});

/** Configured agents with their validate status (never their secrets: responses are redacted). */
export function agentRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/agents',
    tag: 'agents',
    summary:
      'Every configured agent, checked: installed version, credentials, running vs limit, usage',
    query: z.strictObject({}),
    response: z.object({ items: z.array(agentView) }),
    handler: async () => ({ items: await agentReports(app) }),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/agents/:name',
    tag: 'agents',
    summary: 'One configured agent, checked',
    params: z.strictObject({ name: z.string().min(1).max(64) }),
    response: agentView,
    handler: async ({ params }) => {
      if (!Object.hasOwn(app.config.agents, params.name)) {
        const names = Object.keys(app.config.agents).join(', ') || 'none';
        throw new NotFoundError('agent', params.name, `configured agents: ${names}`);
      }
      const [report] = await agentReports(app, params.name, { namedInUse: false });
      return report;
    },
  });
}
