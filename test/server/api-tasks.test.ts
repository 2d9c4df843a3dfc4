import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type ApiBoard, apiBoard, OWN_ORIGIN } from '../support/api.js';

/** The task routes through inject(): every route, and each of its error paths. */
describe('HTTP API: tasks', () => {
  let api: ApiBoard;
  before(async () => {
    api = await apiBoard();
  });
  after(() => api.close());

  const call: ApiBoard['call'] = (method, url, payload) => api.call(method, url, payload);

  it('creates, reads, patches, moves, comments on, cancels and deletes a task', async () => {
    const created = await call('POST', '/api/v1/tasks', {
      title: 'Write the parser',
      body: 'in **markdown**',
      status: 'backlog',
      priority: 'high',
      labels: ['api', 'api', 'parser'],
    });
    assert.equal(created.statusCode, 201, created.body);
    const t = created.json();
    assert.equal(t.status, 'backlog');
    assert.deepEqual(t.labels, ['api', 'parser']);

    const got = await call('GET', `/api/v1/tasks/${t.id}`);
    assert.equal(got.statusCode, 200);
    assert.equal(got.json().title, 'Write the parser');
    assert.deepEqual(got.json().runs, []);

    const patched = await call('PATCH', `/api/v1/tasks/${t.id}`, {
      title: 'Write the JSON parser',
      loop: { enabled: true, maxIterations: 3 },
    });
    assert.equal(patched.statusCode, 200, patched.body);
    assert.equal(patched.json().title, 'Write the JSON parser');
    assert.equal(patched.json().loop.maxIterations, 3);

    const moved = await call('POST', `/api/v1/tasks/${t.id}/move`, { status: 'todo' });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.equal(moved.json().status, 'todo');

    const c = await call('POST', `/api/v1/tasks/${t.id}/comments`, { body: 'looks good' });
    assert.equal(c.statusCode, 201, c.body);
    const comments = await call('GET', `/api/v1/tasks/${t.id}/comments`);
    assert.deepEqual(
      comments.json().items.map((x: { body: string; author: string }) => [x.author, x.body]),
      [['user', 'looks good']],
    );

    const cancelled = await call('POST', `/api/v1/tasks/${t.id}/cancel`);
    assert.equal(cancelled.json().status, 'cancelled');

    const del = await call('DELETE', `/api/v1/tasks/${t.id}`);
    assert.equal(del.statusCode, 200, del.body);
    assert.deepEqual(del.json(), { id: t.id, deleted: true });
    const gone = await call('GET', `/api/v1/tasks/${t.id}`);
    assert.equal(gone.statusCode, 404);
    assert.equal(gone.json().error.code, 'not_found');
  });

  it('lists with filters, sort, paging and per-column counts', async () => {
    for (const [title, status, priority] of [
      ['alpha one', 'todo', 'low'],
      ['alpha two', 'todo', 'urgent'],
      ['beta', 'backlog', 'medium'],
    ] as const) {
      assert.equal(
        (await call('POST', '/api/v1/tasks', { title, status, priority })).statusCode,
        201,
      );
    }
    const page1 = (await call('GET', '/api/v1/tasks?q=alpha&sort=priority&limit=1')).json();
    assert.deepEqual(
      page1.items.map((t: { title: string }) => t.title),
      ['alpha two'],
    );
    assert.equal(page1.total, 2);
    assert.equal(page1.nextOffset, 1);
    const page2 = (
      await call('GET', '/api/v1/tasks?q=alpha&sort=priority&limit=1&offset=1')
    ).json();
    assert.deepEqual(
      page2.items.map((t: { title: string }) => t.title),
      ['alpha one'],
    );
    assert.equal(page2.nextOffset, null);
    const byStatus = (await call('GET', '/api/v1/tasks?status=backlog&status=review')).json();
    assert.ok(
      byStatus.items.every((t: { status: string }) => ['backlog', 'review'].includes(t.status)),
    );
    assert.ok(byStatus.counts.backlog >= 1);
  });

  it('moves to a position within a column', async () => {
    const ids: string[] = [];
    for (const title of ['p1', 'p2', 'p3']) {
      ids.push((await call('POST', '/api/v1/tasks', { title, status: 'blocked' })).json().id);
    }
    const r = await call('POST', `/api/v1/tasks/${ids[2]}/move`, {
      status: 'blocked',
      position: 0,
    });
    assert.equal(r.statusCode, 200, r.body);
    const col = (await call('GET', '/api/v1/tasks?status=blocked')).json();
    assert.deepEqual(
      col.items.map((t: { title: string }) => t.title),
      ['p3', 'p1', 'p2'],
    );
  });

  it('answers bad input with 400 naming the field, and changes nothing', async () => {
    const before = (await call('GET', '/api/v1/tasks?limit=500')).json().total;
    const cases: [string, string, unknown, string][] = [
      ['POST', '/api/v1/tasks', {}, 'body.title'],
      ['POST', '/api/v1/tasks', { title: 'x', priority: 'asap' }, 'body.priority'],
      ['POST', '/api/v1/tasks', { title: 'x', extra: 1 }, 'body.extra'],
      [
        'POST',
        '/api/v1/tasks',
        { title: 'x', loop: { maxIterations: -1 } },
        'body.loop.maxIterations',
      ],
      ['POST', '/api/v1/tasks', { title: 'x', dependsOn: ['T-x'] }, 'body.dependsOn.0'],
      ['GET', '/api/v1/tasks?limit=0', undefined, 'query.limit'],
      ['GET', '/api/v1/tasks?sort=random', undefined, 'query.sort'],
      ['GET', '/api/v1/tasks/T-0', undefined, 'params.id'],
      ['GET', '/api/v1/tasks/..%2f..%2fetc', undefined, 'params.id'],
      ['PATCH', '/api/v1/tasks/T-1', {}, 'body'],
      ['POST', '/api/v1/tasks/T-1/move', { status: 'doing' }, 'body.status'],
    ];
    for (const [method, url, body, field] of cases) {
      const r = await call(method, url, body);
      assert.equal(r.statusCode, 400, `${method} ${url} ${r.body}`);
      assert.equal(r.json().error.code, 'invalid_request');
      assert.equal(r.json().error.details.field, field, `${method} ${url}`);
    }
    assert.equal((await call('GET', '/api/v1/tasks?limit=500')).json().total, before);
  });

  it('maps domain errors to catalog codes', async () => {
    const a = (await call('POST', '/api/v1/tasks', { title: 'a', status: 'backlog' })).json();
    const b = (
      await call('POST', '/api/v1/tasks', { title: 'b', status: 'backlog', dependsOn: [a.id] })
    ).json();
    const cycle = await call('PATCH', `/api/v1/tasks/${a.id}`, { addDependsOn: [b.id] });
    assert.equal(cycle.statusCode, 409);
    assert.equal(cycle.json().error.code, 'dependency_cycle');
    assert.match(cycle.json().error.message, /cycle/);

    const illegal = await call('POST', `/api/v1/tasks/${a.id}/move`, { status: 'in_progress' });
    assert.equal(illegal.statusCode, 409, illegal.body);
    assert.equal(illegal.json().error.code, 'illegal_transition');

    const unknownAgent = await call('POST', '/api/v1/tasks', { title: 'c', agent: 'nobody' });
    assert.equal(unknownAgent.statusCode, 400);
    assert.equal(unknownAgent.json().error.code, 'invalid_input');
    assert.equal(unknownAgent.json().error.details.field, 'agent');

    const missing = await call('POST', '/api/v1/tasks/T-99999/cancel');
    assert.equal(missing.statusCode, 404);
    assert.match(missing.json().error.message, /T-99999 not found/);
  });

  it('answers malformed bodies, unknown routes and media types with catalog errors', async () => {
    const badJson = await api.server.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      headers: { 'content-type': 'application/json', origin: OWN_ORIGIN },
      payload: '{"title": ',
    });
    assert.equal(badJson.statusCode, 400);
    assert.equal(badJson.json().error.code, 'invalid_json');

    const xml = await api.server.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      headers: { 'content-type': 'application/xml', origin: OWN_ORIGIN },
      payload: '<task/>',
    });
    assert.equal(xml.statusCode, 415);
    assert.equal(xml.json().error.code, 'unsupported_media_type');

    const big = await api.server.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      headers: { 'content-type': 'application/json', origin: OWN_ORIGIN },
      payload: JSON.stringify({ title: 'x', body: 'y'.repeat(3 * 1024 * 1024) }),
    });
    assert.equal(big.statusCode, 413);
    assert.equal(big.json().error.code, 'body_too_large');

    const none = await call('GET', '/api/v1/nothing');
    assert.equal(none.statusCode, 404);
    assert.equal(none.json().error.code, 'route_not_found');
  });

  it('documents every route in /openapi.json', async () => {
    const doc = (await call('GET', '/openapi.json')).json();
    assert.equal(doc.openapi, '3.1.0');
    const ops = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(
      ([p, m]) => Object.keys(m).map((verb) => `${verb.toUpperCase()} ${p}`),
    );
    for (const want of [
      'GET /api/v1/tasks',
      'POST /api/v1/tasks',
      'GET /api/v1/tasks/{id}',
      'PATCH /api/v1/tasks/{id}',
      'DELETE /api/v1/tasks/{id}',
      'POST /api/v1/tasks/{id}/move',
      'POST /api/v1/tasks/{id}/runs',
      'GET /api/v1/runs/{id}/logs',
    ]) {
      assert.ok(ops.includes(want), `${want} missing from ${ops.join(', ')}`);
    }
    const create = doc.paths['/api/v1/tasks'].post;
    assert.deepEqual(create.requestBody.content['application/json'].schema.required, ['title']);
  });
});
