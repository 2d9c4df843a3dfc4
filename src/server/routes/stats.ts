import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/** Success rate, durations and cost by agent and day. */
export function statsRoutes(_f: FastifyInstance, _ctx: ServerContext): void {}
