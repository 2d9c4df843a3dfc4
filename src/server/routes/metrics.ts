import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/** Prometheus metrics, in the text exposition format. */
export function metricsRoutes(f: FastifyInstance, { routes, metrics }: ServerContext): void {
  routes.stream(f, {
    method: 'GET',
    url: '/metrics',
    tag: 'service',
    summary:
      'Prometheus metrics: runs by state, queue depth, approvals pending and decided, dispatch latency, live agents, leases, reconciler actions',
    produces: 'text/plain',
    handler: async ({ reply }) => {
      const text = await metrics.registry.metrics();
      return reply.header('content-type', metrics.registry.contentType).send(text);
    },
  });
}
