import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/** Prometheus metrics. */
export function metricsRoutes(_f: FastifyInstance, _ctx: ServerContext): void {}
