import type { FastifyInstance } from 'fastify';
import { agentReports } from '../../app/agents.js';
import { agentParams, noQuery } from '../../contract/requests.js';
import { agentList, agentView } from '../../contract/service-views.js';
import { NotFoundError } from '../../domain/errors.js';
import type { ServerContext } from '../context.js';

/** Configured agents with their validate status (never their secrets: responses are redacted). */
export function agentRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/agents',
    tag: 'agents',
    summary:
      'Every configured agent, checked: installed version, credentials, running vs limit, usage',
    query: noQuery,
    response: agentList,
    handler: async () => ({ items: await agentReports(app) }),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/agents/:name',
    tag: 'agents',
    summary: 'One configured agent, checked',
    params: agentParams,
    response: agentView,
    handler: async ({ params }) => {
      const [report] = Object.hasOwn(app.config.agents, params.name)
        ? await agentReports(app, params.name, { namedInUse: false })
        : [];
      if (!report) {
        const names = Object.keys(app.config.agents).join(', ') || 'none';
        throw new NotFoundError('agent', params.name, `configured agents: ${names}`);
      }
      return report;
    },
  });
}
