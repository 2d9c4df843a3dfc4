import { z } from 'zod';
import { ERROR_CATALOG } from './error-catalog.js';
import type { RouteRegistry } from './route.js';

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

export function buildOpenApi(routes: RouteRegistry, version: string): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const r of routes.specs) {
    const ok = String(r.status ?? 200);
    const content = r.response
      ? { 'application/json': { schema: jsonSchema(r.response, 'output') } }
      : { [r.produces]: { schema: { type: 'string' } } };
    const op: JsonSchema = {
      summary: r.summary,
      tags: [r.tag],
      parameters: [...parameters(r.params, 'path'), ...parameters(r.query, 'query')],
      responses: {
        [ok]: { description: 'success', content },
        default: {
          description: 'an error from the catalog (components.schemas.Error)',
          content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
        },
      },
    };
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
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
    },
  };
}
