import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/** Reviews over HTTP (issue 18). */
export function reviewRoutes(_f: FastifyInstance, _ctx: ServerContext): void {}
