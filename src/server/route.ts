import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { RunPrincipal } from '../app/run-token.js';
import { HttpError } from './error-catalog.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

export interface RouteInput<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  request: FastifyRequest;
  reply: FastifyReply;
}

interface RouteBase<P, Q, B> {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** Success status; 200 unless set. */
  status?: number;
  /**
   * A write a run's own token may make: the task it touches (`board` for the
   * whole board), checked against the run's task. A write without one is the
   * owner's alone (run-scope.ts).
   */
  runScope?: (input: RouteInput<P, Q, B>) => Promise<RunTarget> | RunTarget;
}

/**
 * A JSON route: its answer is parsed through `response` before it is sent,
 * so only the contract's fields leave (unknown ones are stripped) and the
 * docs cannot drift from what is sent.
 */
export interface JsonRoute<P, Q, B, R extends z.ZodType> extends RouteBase<P, Q, B> {
  response: R;
  produces?: undefined;
  handler: (input: RouteInput<P, Q, B>) => Promise<z.input<R>> | z.input<R>;
}

/** A route that streams (SSE) or sends text itself, through `reply`. */
export interface StreamRoute<P, Q, B> extends RouteBase<P, Q, B> {
  /** The media type it sends, for the docs. */
  produces: string;
  response?: undefined;
  handler: (input: RouteInput<P, Q, B>) => Promise<FastifyReply>;
}

/** One API route: its zod schemas validate the request and the answer, and document both in /openapi.json. */
export type RouteSpec<P = unknown, Q = unknown, B = unknown, R extends z.ZodType = z.ZodType> =
  | JsonRoute<P, Q, B, R>
  | StreamRoute<P, Q, B>;

/** What a run-scoped write touches: a task (by number), or the board as a whole. */
export type RunTarget = number | 'board';

/** Refuses a run's write outside its own task (server/run-scope.ts). */
export type RunScopeCheck = (principal: RunPrincipal, target: RunTarget) => Promise<void>;

/** The routes registered so far, in order: the OpenAPI document is built from them. */
export class RouteRegistry {
  readonly specs: RouteSpec[] = [];

  constructor(private readonly checkRunScope: RunScopeCheck) {}

  /** A JSON route; it answers what `spec.response` lets through. */
  add<P, Q, B, R extends z.ZodType>(fastify: FastifyInstance, spec: JsonRoute<P, Q, B, R>): void {
    this.register(fastify, spec);
  }

  /** A route that sends its own answer (SSE, text), of the media type `spec.produces`. */
  stream<P, Q, B>(fastify: FastifyInstance, spec: StreamRoute<P, Q, B>): void {
    this.register(fastify, spec);
  }

  private register<P, Q, B, R extends z.ZodType>(
    fastify: FastifyInstance,
    spec: RouteSpec<P, Q, B, R>,
  ): void {
    this.specs.push(spec as RouteSpec);
    fastify.route({
      method: spec.method,
      url: spec.url,
      config: { runScoped: spec.runScope !== undefined },
      handler: async (request, reply) => {
        const params = parse(spec.params, request.params, 'params');
        const query = parse(spec.query, request.query, 'query');
        if (spec.body) requireObjectBody(request.body);
        const body = parse(spec.body, request.body, 'body');
        const input = { params, query, body, request, reply };
        const principal = request.runPrincipal;
        if (principal && spec.method !== 'GET' && spec.runScope) {
          await this.checkRunScope(principal, await spec.runScope(input));
        }
        const out = await spec.handler(input);
        if (reply.sent || !spec.response) return reply;
        if (spec.status) reply.code(spec.status);
        return serialize(spec.response, out, `${spec.method} ${spec.url}`);
      },
    });
  }
}

/**
 * The answer as the contract states it: unknown fields stripped. An answer
 * that does not fit is the server's bug, reported as a 500 naming the field.
 */
function serialize(schema: z.ZodType, out: unknown, route: string): unknown {
  const r = schema.safeParse(out);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  throw new Error(
    `${route} answered outside its response schema at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'invalid'}`,
  );
}

function parse<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const r = schema.safeParse(value ?? (where === 'body' ? undefined : {}));
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = fieldOf(where, issue);
  throw new HttpError('invalid_request', `${field}: ${issue?.message ?? 'invalid'}`, {
    field,
    issues: r.error.issues.slice(0, 10).map((i) => ({
      path: fieldOf(where, i),
      message: i.message,
    })),
  });
}

/**
 * Every body the API takes is a JSON object (or, where it is optional, no body
 * at all): `null`, an array, a string or a number is refused before the
 * route's schema can mistake it for "no body".
 */
function requireObjectBody(body: unknown): void {
  if (body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body))) {
    return;
  }
  const got = body === null ? 'null' : Array.isArray(body) ? 'an array' : `a ${typeof body}`;
  throw new HttpError(
    'invalid_request',
    `body: expected a JSON object, got ${got}: send {…} with the fields of this route (see /openapi.json), or no body where it is optional`,
    { field: 'body', issues: [{ path: 'body', message: `expected an object, got ${got}` }] },
  );
}

/** `body.loop.maxIterations`; for an unknown key, the key itself. */
function fieldOf(where: string, issue: z.core.$ZodIssue | undefined): string {
  const path = [where, ...(issue?.path ?? []).map(String)];
  if (issue?.code === 'unrecognized_keys' && issue.keys[0]) path.push(issue.keys[0]);
  return path.join('.');
}
