import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { z } from 'zod';
import { EVENT_TYPES } from '../../src/contract/event-types.js';
import { EVENT_PAYLOADS } from '../../src/contract/events.js';
import { VERSION } from '../../src/contract/version.js';
import { RouteRegistry } from '../../src/server/route.js';
import { routeTableOf } from '../../src/server/server.js';
import { type ApiBoard, apiBoard } from '../support/api.js';
import { testConfig } from '../support/board.js';

type Operation = { responses: Record<string, { content?: Record<string, { schema?: object }> }> };

/** The contract holds: every route declares its answer, and the docs show every success body. */
describe('the API contract', () => {
  let api: ApiBoard;
  before(async () => {
    api = await apiBoard({ config: testConfig({ board: { autostart: false } }) });
  });
  after(() => api.close());

  it('every API route declares its response schema, or what it streams', () => {
    const table = routeTableOf(api.server);
    assert.ok(table, 'buildServer keeps its route table');
    assert.ok(table.specs.length >= 38, `only ${table.specs.length} routes registered`);
    for (const r of table.specs) {
      const name = `${r.method} ${r.url}`;
      if (r.produces !== undefined) {
        assert.equal(r.response, undefined, `${name} both streams and declares JSON`);
        assert.match(r.produces, /^[a-z]+\/[a-z.+-]+$/, `${name} produces ${r.produces}`);
      } else {
        assert.ok(r.response instanceof z.ZodType, `${name} has no response schema`);
      }
    }
  });

  it('no API route is registered outside the registry (and so outside the docs)', () => {
    const table = routeTableOf(api.server);
    assert.ok(table);
    const documented = new Set(table.specs.map((r) => `${r.method} ${r.url}`));
    const api_ = table.all.filter(
      (r) =>
        r.method !== 'HEAD' &&
        (r.url.startsWith('/api/') || r.url === '/healthz' || r.url === '/metrics'),
    );
    assert.ok(api_.length >= 38);
    for (const r of api_) {
      assert.ok(documented.has(`${r.method} ${r.url}`), `${r.method} ${r.url} is undocumented`);
    }
  });

  it('/openapi.json documents a success body for every operation', async () => {
    const res = await api.call('GET', '/openapi.json');
    assert.equal(res.statusCode, 200);
    const doc = res.json() as {
      info: { version: string };
      paths: Record<string, Record<string, Operation>>;
    };
    assert.equal(doc.info.version, VERSION);
    let operations = 0;
    const missing: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        operations++;
        const ok = Object.entries(op.responses).filter(([code]) => /^2\d\d$/.test(code));
        const bodies = ok.flatMap(([, r]) => Object.entries(r.content ?? {}));
        const [media, body] = bodies[0] ?? [];
        const schema = body?.schema as Record<string, unknown> | undefined;
        const typed =
          media === 'application/json'
            ? schema?.type === 'object' || schema?.$ref !== undefined
            : media === 'text/plain' || media === 'text/event-stream';
        if (ok.length !== 1 || bodies.length !== 1 || !schema || !typed) {
          missing.push(`${method.toUpperCase()} ${path}`);
        }
      }
    }
    assert.ok(operations >= 38, `only ${operations} operations`);
    assert.deepEqual(missing, [], 'operations without a success body');
  });

  it('/openapi.json says what a write needs: the header without a JSON body, and its refusals', async () => {
    const doc = (await api.call('GET', '/openapi.json')).json() as {
      paths: Record<
        string,
        Record<
          string,
          Operation & { parameters: { name: string; in: string }[]; requestBody?: unknown }
        >
      >;
      security: unknown[];
    };
    assert.deepEqual(doc.security, [{ bearer: [] }, { cookie: [] }]);
    const wrong: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method.toUpperCase()} ${path}`;
        const header = op.parameters.some(
          (p) => p.in === 'header' && p.name === 'X-Agentboard-Request',
        );
        const write = method !== 'get';
        if (header !== (write && op.requestBody === undefined)) wrong.push(`${where}: header`);
        if (!op.responses['401'] !== (path === '/healthz')) wrong.push(`${where}: 401`);
        if (write && !(op.responses['403'] && op.responses['415'])) wrong.push(`${where}: 403/415`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('says the one version everywhere: the contract, package.json and /healthz', async () => {
    const pkg = JSON.parse(
      fs.readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
    );
    assert.equal(VERSION, pkg.version, 'bump src/contract/version.ts with package.json');
    const health = await api.call('GET', '/healthz');
    assert.deepEqual(health.json(), { ok: true, version: VERSION, engine: false });
  });

  it('has a payload schema for every event type, and no other', () => {
    assert.deepEqual(Object.keys(EVENT_PAYLOADS).sort(), [...EVENT_TYPES].sort());
  });

  it('every event the API serves carries a payload its schema accepts', async () => {
    const t = (await api.call('POST', '/api/v1/tasks', { title: 'contract' })).json();
    await api.call('POST', `/api/v1/tasks/${t.id}/move`, { status: 'backlog' });
    await api.call('POST', `/api/v1/tasks/${t.id}/comments`, { body: 'hello @nobody' });
    await api.call('POST', '/api/v1/messages', { type: 'fact', body: 'the sky', taskId: t.id });
    const s = await api.call('POST', '/api/v1/schedules', {
      cron: '0 3 * * *',
      prompt: 'nightly',
      agent: 'bot',
    });
    assert.equal(s.statusCode, 201, s.body);
    const page = (await api.call('GET', '/api/v1/events?limit=1000')).json() as {
      items: { type: string; data: unknown }[];
    };
    const seen = new Set(page.items.map((e) => e.type));
    for (const t of ['task.created', 'task.moved', 'task.commented', 'message.posted']) {
      assert.ok(seen.has(t), `no ${t} event`);
    }
    assert.ok(seen.has('schedule.created'), 'no schedule.created event');
    for (const e of page.items) {
      const schema = EVENT_PAYLOADS[e.type as keyof typeof EVENT_PAYLOADS];
      assert.ok(schema, `unknown event type ${e.type}`);
      const r = schema.strict().safeParse(e.data);
      assert.ok(r.success, `${e.type} ${JSON.stringify(e.data)}: ${r.error?.message}`);
    }
  });
});

describe('serializing through the response schema', () => {
  const f = Fastify();
  const routes = new RouteRegistry(async () => {});
  let answer: unknown;
  routes.add(f, {
    method: 'GET',
    url: '/thing',
    tag: 't',
    summary: 's',
    response: z.object({ id: z.string(), n: z.number() }),
    handler: async () => answer as { id: string; n: number },
  });
  after(() => f.close());

  it('strips a field the contract does not name (a secret column, say)', async () => {
    answer = { id: 'a', n: 1, tokenHash: 'sha256:…', nested: { x: 1 } };
    const res = await f.inject({ method: 'GET', url: '/thing' });
    assert.equal(res.statusCode, 200);
    assert.deepEqual(res.json(), { id: 'a', n: 1 });
  });

  it('refuses to send an answer that breaks the contract', async () => {
    answer = { id: 'a', n: 'one' };
    const res = await f.inject({ method: 'GET', url: '/thing' });
    assert.equal(res.statusCode, 500);
    assert.ok(!res.body.includes('"one"'), res.body);
  });
});
