import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/** Configured agents with their validate status. */
export function agentRoutes(_f: FastifyInstance, _ctx: ServerContext): void {}
