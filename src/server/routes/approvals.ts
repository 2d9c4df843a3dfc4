import type { FastifyInstance } from 'fastify';
import type { ServerContext } from '../context.js';

/** Approvals over HTTP (issue 18). */
export function approvalRoutes(_f: FastifyInstance, _ctx: ServerContext): void {}
