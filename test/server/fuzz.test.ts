import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { ERROR_CATALOG } from '../../src/server/error-catalog.js';
import { type ApiBoard, apiBoard, BOARD_WRITE_HEADERS, OWN_ORIGIN } from '../support/api.js';
import { testConfig } from '../support/board.js';
import { assertErrorShape } from './error-shape.js';

/**
 * Thousands of generated malformed requests: every one must be refused with a
 * 4xx from the error catalog, in the one error shape (Fastify's own refusals
 * included), and the database must be byte-for-byte the same afterwards.
 */

const TABLES = [
  'tasks',
  'runs',
  'run_events',
  'comments',
  'task_dependencies',
  'events',
  'messages',
  'counters',
];
const SEED = 20261121;

interface Req {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT' | 'OPTIONS' | 'HEAD';
  url: string;
  payload?: string;
  contentType?: string;
  kind: string;
}

/** Strings no field accepts: too long, or strange enough to break a naive parser. */
const oddStrings = [
  '',
  ' ',
  '\u0000',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u202dtitle',
  '🧨'.repeat(300),
  'x'.repeat(501),
  'é'.repeat(2000),
  '\u200b'.repeat(600),
  '../../etc/passwd',
  '%2e%2e%2f%2e%2e%2f',
  '$(touch /tmp/fuzz-pwned)',
  "'; drop table tasks; --",
  '{"__proto__":{"polluted":true}}',
];

const badIds = [
  '..',
  '..%2F..%2Fetc%2Fpasswd',
  '%2e%2e',
  'T-0',
  'T--1',
  'T-1.5',
  'T-99999999999999999999',
  'T-1%00',
  'T-1;rm',
  '%00',
  'T-%F0%9F%A7%A8',
  'r..%2F..%2F',
  `r${'a'.repeat(60)}`,
  '0x10',
  '1e3',
  ' T-1',
];

const badRanges = [
  '-1',
  '-0.5',
  '1e3',
  '99999999999999999999',
  'NaN',
  'Infinity',
  '0x10',
  '',
  '1;2',
  '../1',
  '%00',
];

describe('HTTP API fuzz: malformed requests change nothing and never 5xx', () => {
  let api: ApiBoard;
  let ids: {
    backlog: string;
    todo: string;
    done: string;
    cancelled: string;
    run: string;
    idle: string;
  };

  before(async () => {
    api = await apiBoard({ config: testConfig({ board: { autostart: false } }) });
    const post = async (url: string, body?: unknown) => {
      const r = await api.server.inject({
        method: 'POST',
        url,
        headers: BOARD_WRITE_HEADERS,
        ...(body === undefined ? {} : { payload: body as object }),
      });
      assert.ok(r.statusCode < 300, r.body);
      return r.json();
    };
    const backlog = (await post('/api/v1/tasks', { title: 'backlog', status: 'backlog' })).id;
    const todo = (await post('/api/v1/tasks', { title: 'todo', agent: 'bot' })).id;
    const run = (await post(`/api/v1/tasks/${todo}/runs`)).id;
    const done = (await post('/api/v1/tasks', { title: 'done', status: 'done' })).id;
    const cancelled = (await post('/api/v1/tasks', { title: 'c', status: 'backlog' })).id;
    await post(`/api/v1/tasks/${cancelled}/cancel`);
    await post(`/api/v1/tasks/${todo}/comments`, { body: 'hello' });
    // Could be run at any moment: a body mistaken for "no body" would queue one.
    const idle = (await post('/api/v1/tasks', { title: 'idle', status: 'backlog', agent: 'bot' }))
      .id;
    ids = { backlog, todo, done, cancelled, run, idle };
  });
  after(() => api.close());

  async function dump(): Promise<string> {
    const parts: string[] = [];
    for (const t of TABLES)
      parts.push(t, JSON.stringify(await api.board.rawQuery(`select * from ${t} order by 1, 2`)));
    return parts.join('\n');
  }

  function generate(n: number): Req[] {
    const rnd = fc.sample(fc.integer({ min: 0, max: 2 ** 31 - 1 }), { numRuns: n * 4, seed: SEED });
    let k = 0;
    const pick = <T>(xs: readonly T[]): T => xs[(rnd[k++ % rnd.length] as number) % xs.length] as T;
    const anything = fc.sample(fc.anything({ maxDepth: 3 }), { numRuns: n, seed: SEED + 1 });
    const task = () => pick([ids.backlog, ids.todo, ids.done, ids.cancelled]);
    const out: Req[] = [];
    const json = (v: unknown) => JSON.stringify(v) ?? 'null';
    const generators: (() => Req)[] = [
      // Bad JSON.
      () => ({
        kind: 'bad-json',
        method: pick(['POST', 'PATCH'] as const),
        url: pick(['/api/v1/tasks', `/api/v1/tasks/${task()}`, `/api/v1/tasks/${task()}/move`]),
        payload: pick([
          '{',
          '{"title":',
          '[1,2',
          '{"title":"x",}',
          "{'title':'x'}",
          'nul',
          '\u0000',
          '{"a":1}{"b":2}',
        ]),
        contentType: 'application/json',
      }),
      // Wrong types anywhere in a create.
      () => ({
        kind: 'wrong-type',
        method: 'POST',
        url: '/api/v1/tasks',
        payload: json({ title: pick([123, null, true, [], {}, ['x'], 1.5]) }),
      }),
      // A random value as the whole body, always with an invalid title.
      () => {
        const v = anything[k++ % anything.length];
        const base = v && typeof v === 'object' && !Array.isArray(v) ? (v as object) : { v };
        return {
          kind: 'random-body',
          method: 'POST',
          url: '/api/v1/tasks',
          payload: json({ ...base, title: pick(['', 'x'.repeat(501), 7, null]) }),
        };
      },
      // Odd unicode and huge strings in every text field.
      () => ({
        kind: 'odd-unicode',
        method: 'PATCH',
        url: `/api/v1/tasks/${task()}`,
        payload: json({
          [pick(['title', 'agent', 'verifyCommand', 'labels', 'priority'])]: pick(oddStrings),
          // An unknown field makes the whole patch invalid, whatever the value above.
          unknownField: pick(oddStrings),
        }),
      }),
      // Strings the route would accept in length, but in the wrong place.
      () => ({
        kind: 'odd-enum',
        method: 'POST',
        url: `/api/v1/tasks/${task()}/move`,
        payload: json({ status: pick(oddStrings), position: pick([-1, 1.5, '0', 1e12]) }),
      }),
      // Illegal transitions on real tasks.
      () =>
        pick([
          {
            kind: 'illegal',
            method: 'POST',
            url: `/api/v1/tasks/${ids.backlog}/move`,
            payload: json({ status: 'in_progress' }),
          },
          { kind: 'illegal', method: 'POST', url: `/api/v1/tasks/${ids.cancelled}/cancel` },
          { kind: 'illegal', method: 'POST', url: `/api/v1/tasks/${ids.todo}/runs` },
          { kind: 'illegal', method: 'DELETE', url: `/api/v1/tasks/${ids.todo}` },
          {
            kind: 'illegal',
            method: 'POST',
            url: `/api/v1/tasks/${ids.done}/move`,
            payload: json({ status: 'in_progress' }),
          },
          {
            kind: 'illegal',
            method: 'POST',
            url: `/api/v1/tasks/${ids.backlog}/runs`,
            payload: json({ agent: 'nobody' }),
          },
          {
            kind: 'illegal',
            method: 'PATCH',
            url: `/api/v1/tasks/${ids.backlog}`,
            payload: json({ parent: ids.backlog }),
          },
        ] as Req[]),
      // Path traversal and nonsense in ids.
      () => {
        const id = pick(badIds);
        return pick([
          { kind: 'traversal', method: 'GET', url: `/api/v1/tasks/${id}` },
          { kind: 'traversal', method: 'DELETE', url: `/api/v1/tasks/${id}` },
          { kind: 'traversal', method: 'POST', url: `/api/v1/tasks/${id}/cancel` },
          { kind: 'traversal', method: 'GET', url: `/api/v1/runs/${id}` },
          { kind: 'traversal', method: 'GET', url: `/api/v1/runs/${id}/logs` },
          { kind: 'traversal', method: 'POST', url: `/api/v1/runs/${id}/stop` },
          { kind: 'traversal', method: 'GET', url: `/api/v1/runs/${ids.run}/logs?stream=${id}` },
        ] as Req[]);
      },
      // Negative, huge and non-numeric ranges.
      () => ({
        kind: 'range',
        method: 'GET',
        url: pick([
          `/api/v1/runs/${ids.run}/logs?offset=${pick(badRanges)}`,
          `/api/v1/runs/${ids.run}/logs?limit=${pick(badRanges)}`,
          `/api/v1/runs/${ids.run}/logs?offset=1&offset=2`,
          `/api/v1/runs/${ids.run}/events?after=${pick(badRanges)}`,
          `/api/v1/tasks?limit=${pick(badRanges)}`,
          `/api/v1/tasks?offset=${pick(badRanges)}`,
          `/api/v1/runs?limit=${pick(badRanges)}`,
        ]),
      }),
      // The other resources: messages, schedules, stats, agents, events, workspaces, cards.
      () =>
        pick([
          {
            kind: 'other',
            method: 'POST',
            url: '/api/v1/messages',
            payload: json({ type: pick(oddStrings), body: 'x' }),
          },
          {
            kind: 'other',
            method: 'POST',
            url: '/api/v1/messages',
            payload: json({ type: 'FACT', body: pick(['', 7, null]) }),
          },
          {
            kind: 'other',
            method: 'POST',
            url: '/api/v1/messages',
            payload: json({ type: 'FACT', body: 'x', taskId: pick(badIds) }),
          },
          { kind: 'other', method: 'GET', url: `/api/v1/messages?after=${pick(badRanges)}` },
          {
            kind: 'other',
            method: 'POST',
            url: '/api/v1/schedules',
            payload: json({
              cron: pick(['* * *', '61 * * * *', '', 'every day']),
              agent: 'bot',
              prompt: 'x',
            }),
          },
          {
            kind: 'other',
            method: 'POST',
            url: '/api/v1/schedules',
            payload: json({ cron: '0 9 * * *', agent: pick(oddStrings), prompt: 'x' }),
          },
          { kind: 'other', method: 'DELETE', url: `/api/v1/schedules/${pick(badIds)}` },
          { kind: 'other', method: 'GET', url: `/api/v1/stats?days=${pick(badRanges)}` },
          {
            kind: 'other',
            method: 'GET',
            url: `/api/v1/agents/${pick(badIds)}x`,
          },
          { kind: 'other', method: 'GET', url: `/api/v1/events?after=${pick(badRanges)}` },
          { kind: 'other', method: 'GET', url: `/api/v1/events/stream?after=${pick(badRanges)}` },
          { kind: 'other', method: 'GET', url: `/api/v1/runs/${pick(badIds)}/logs/stream` },
          {
            kind: 'other',
            method: 'GET',
            url: `/api/v1/runs/${ids.run}/logs/stream?offset=${pick(badRanges)}`,
          },
          { kind: 'other', method: 'GET', url: `/api/v1/tasks/${task()}/diff` },
          {
            kind: 'other',
            method: 'POST',
            url: `/api/v1/tasks/${task()}/merge`,
            payload: json({ squash: pick(['yes', 1, null]) }),
          },
          { kind: 'other', method: 'POST', url: `/api/v1/tasks/${task()}/discard` },
          {
            kind: 'other',
            method: 'POST',
            url: '/api/v1/gc',
            payload: json({ olderThan: pick(oddStrings) }),
          },
          { kind: 'other', method: 'GET', url: `/api/v1/tasks/${pick(badIds)}/tree` },
          { kind: 'other', method: 'GET', url: `/api/v1/cards?tasks=${pick(badIds)}` },
        ] as Req[]),
      // Not a JSON object where every body route expects one (null once queued a run).
      () => ({
        kind: 'non-object-body',
        method: 'POST',
        url: pick([
          `/api/v1/tasks/${task()}/runs`,
          '/api/v1/tasks',
          `/api/v1/tasks/${task()}/move`,
          `/api/v1/tasks/${task()}/comments`,
          `/api/v1/tasks/${task()}/merge`,
          '/api/v1/gc',
          '/api/v1/messages',
          '/api/v1/schedules',
        ]),
        payload: pick(['null', '[]', '[{"agent":"bot"}]', '"bot"', '7', 'true', '""', '']),
        contentType: 'application/json',
      }),
      // The engine's own message types, in any case.
      () => ({
        kind: 'system-message',
        method: 'POST',
        url: '/api/v1/messages',
        payload: json({
          type: pick(['RUN_START', 'RUN_STOP', 'run_start', ' Run_Stop ']),
          body: 'forged',
          author: 'bot',
          ...(k % 2 === 0 ? { taskId: task() } : { runId: ids.run }),
        }),
      }),
      // Methods a route does not take (405), URLs the router cannot decode.
      () =>
        pick([
          { kind: 'method', method: 'DELETE', url: '/api/v1/runs' },
          { kind: 'method', method: 'PUT', url: `/api/v1/tasks/${task()}` },
          { kind: 'method', method: 'DELETE', url: `/api/v1/runs/${ids.run}` },
          { kind: 'method', method: 'PATCH', url: '/api/v1/messages' },
          { kind: 'method', method: 'OPTIONS', url: '/api/v1/tasks' },
          { kind: 'method', method: 'GET', url: `/api/v1/tasks/${task()}/cancel` },
          { kind: 'method', method: 'HEAD', url: '/api/v1/gc' },
          {
            kind: 'bad-url',
            method: 'GET',
            url: `/api/v1/tasks/${pick(['%', '%E0%A4%A', '%zz'])}`,
          },
          { kind: 'bad-url', method: 'GET', url: `/api/v1/runs/${'r'.repeat(201 + (k % 50))}` },
          { kind: 'route', method: 'GET', url: pick(['/api/v2/tasks', '/api', '/.env']) },
        ] as Req[]),
      // Wrong methods, media types and unknown routes.
      () =>
        pick([
          { kind: 'route', method: 'PUT', url: '/api/v1/tasks' },
          { kind: 'route', method: 'POST', url: `/api/v1/tasks/${task()}/teleport` },
          {
            kind: 'media',
            method: 'POST',
            url: '/api/v1/tasks',
            payload: 'title=x',
            contentType: 'application/x-www-form-urlencoded',
          },
          {
            kind: 'media',
            method: 'POST',
            url: '/api/v1/tasks',
            payload: json({ title: 'x' }),
            contentType: 'text/html',
          },
        ] as Req[]),
    ];
    for (let i = 0; i < n; i++) out.push((generators[i % generators.length] as () => Req)());
    return out;
  }

  it('5,000 requests: all 4xx with a catalog code, zero state changes', async () => {
    const before = await dump();
    const requests = generate(5000);
    const codes = new Set(Object.keys(ERROR_CATALOG));
    const byKind = new Map<string, number>();
    for (const r of requests) {
      const res = await api.server.inject({
        method: r.method,
        url: r.url,
        headers: {
          ...BOARD_WRITE_HEADERS,
          ...(r.payload !== undefined
            ? { 'content-type': r.contentType ?? 'application/json' }
            : {}),
        },
        ...(r.payload !== undefined ? { payload: r.payload } : {}),
      });
      const where = `${r.kind}: ${r.method} ${r.url} ${r.payload?.slice(0, 200) ?? ''} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
      assert.ok(res.statusCode >= 400 && res.statusCode < 500, where);
      if (r.method === 'HEAD') {
        // A HEAD answer has no body to check; its status is the GET's.
        assert.equal(res.statusCode, 405, where);
      } else {
        const e = assertErrorShape(res, where);
        assert.ok(codes.has(e.code), where);
        if (r.kind === 'method') assert.equal(e.code, 'method_not_allowed', where);
        if (r.kind === 'non-object-body' || r.kind === 'system-message') {
          assert.equal(res.statusCode, 400, where);
        }
      }
      byKind.set(r.kind, (byKind.get(r.kind) ?? 0) + 1);
    }
    assert.equal(requests.length, 5000);
    assert.ok(byKind.size >= 14, [...byKind.keys()].join(','));
    assert.equal(await dump(), before, 'the database changed');
  });

  it('every body route refuses every non-object JSON body with a 400, changing nothing', async () => {
    const before = await dump();
    const routes: [Req['method'], string][] = [
      ['POST', `/api/v1/tasks/${ids.idle}/runs`],
      ['POST', '/api/v1/tasks'],
      ['PATCH', `/api/v1/tasks/${ids.idle}`],
      ['POST', `/api/v1/tasks/${ids.idle}/move`],
      ['POST', `/api/v1/tasks/${ids.idle}/comments`],
      ['POST', `/api/v1/tasks/${ids.idle}/merge`],
      ['POST', '/api/v1/gc'],
      ['POST', '/api/v1/messages'],
      ['POST', '/api/v1/schedules'],
    ];
    for (const [method, url] of routes) {
      for (const payload of ['null', '[]', '[{"agent":"bot"}]', '"bot"', '0', 'false', '']) {
        const res = await api.server.inject({
          method,
          url,
          headers: { origin: OWN_ORIGIN, 'content-type': 'application/json' },
          payload,
        });
        const where = `${method} ${url} ${JSON.stringify(payload)}`;
        assert.equal(res.statusCode, 400, `${where}: ${res.body}`);
        assertErrorShape(res, where);
      }
    }
    assert.equal(await dump(), before, 'the database changed');
  });
});
