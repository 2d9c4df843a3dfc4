import { z } from 'zod';
import { ERROR_CATALOG } from './error-catalog.js';
import type { RouteRegistry } from './route.js';
import { OPEN_ROUTES, REQUEST_HEADER } from './security.js';

type JsonSchema = Record<string, unknown>;

function jsonSchema(s: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _, ...rest } = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/** `/api/v1/tasks/:id` → `/api/v1/tasks/{id}` */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_]+)/g, '{$1}');
}

function parameters(s: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!s) return [];
  const schema = jsonSchema(s, 'input') as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(schema.properties ?? {}).map(([name, p]) => ({
    name,
    in: where,
    required: where === 'path' || (schema.required ?? []).includes(name),
    schema: p,
  }));
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', enum: Object.keys(ERROR_CATALOG) },
        message: { type: 'string' },
        details: { type: 'object' },
      },
    },
  },
};

const errorRef = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** What every write also answers (security.ts): each in the one error shape. */
const WRITE_REFUSALS = {
  '403': errorRef(
    `origin_not_allowed, request_header_required (a write with no JSON body lacks ${REQUEST_HEADER}: 1), or outside_run_scope (a run's token writing where it may not)`,
  ),
  '415': errorRef('unsupported_media_type: a body that is not application/json'),
};

export function buildOpenApi(routes: RouteRegistry, version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes.specs) {
    const ok = String(r.status ?? 200);
    const content = r.response
      ? { 'application/json': { schema: jsonSchema(r.response, 'output') } }
      : { [r.produces]: { schema: { type: 'string' } } };
    const write = r.method !== 'GET';
    const open = OPEN_ROUTES.has(r.url);
    // A write without a JSON body must carry the header: no simple cross-site request can.
    const header =
      write && !r.body
        ? [
            {
              name: REQUEST_HEADER,
              in: 'header',
              required: true,
              schema: { type: 'string', const: '1' },
            },
          ]
        : [];
    const op: JsonSchema = {
      summary: r.runScope
        ? `${r.summary} (a run's own token may call it, within its task)`
        : r.summary,
      tags: [r.tag],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query'), ...header],
      responses: {
        [ok]: { description: 'success', content },
        ...(open
          ? {}
          : { '401': errorRef('unauthorized: the owner token (or a live run token) is required') }),
        ...(write ? WRITE_REFUSALS : {}),
        default: errorRef('an error from the catalog (components.schemas.Error)'),
      },
    };
    if (open) op.security = [];
    if (r.body) {
      op.requestBody = {
        required: true,
        content: { 'application/json': { schema: jsonSchema(r.body, 'input') } },
      };
    }
    const p = openApiPath(r.url);
    paths[p] = { ...paths[p], [r.method.toLowerCase()]: op };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'agentboard',
      version,
      description: `Error codes: ${Object.entries(ERROR_CATALOG)
        .map(([code, e]) => `${code} (${e.status}) ${e.summary}`)
        .join('; ')}`,
    },
    paths,
    components: {
      schemas: { Error: errorSchema },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        cookie: { type: 'apiKey', in: 'cookie', name: 'agentboard_token' },
      },
    },
    // Every operation needs one of them, unless the board runs with server.auth: none.
    security: [{ bearer: [] }, { cookie: [] }],
  };
}
