import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/** The message bus. */
export function messageRoutes(_f: FastifyInstance, _ctx: ServerContext): void {}
