import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/** SSE: the board event feed and a run's live log. */
export function streamRoutes(_f: FastifyInstance, _ctx: ServerContext): void {}
