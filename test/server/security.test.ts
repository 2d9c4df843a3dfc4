import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiTokenVerifier, ensureApiToken, rotateApiToken } from '../../src/app/api-token.js';
import { AuthFailureLimiter } from '../../src/server/auth-limiter.js';
import { REQUEST_HEADER } from '../../src/server/security.js';
import { type ApiBoard, apiBoard, OWN_ORIGIN, TEST_PORT } from '../support/api.js';
import { assertErrorShape } from './error-shape.js';

describe('HTTP API security: Host, Origin', () => {
  let api: ApiBoard;
  before(async () => {
    api = await apiBoard({ security: { allowedOrigins: ['http://localhost:5173'] } });
  });
  after(() => api.close());

  const post = (headers: Record<string, string>) =>
    api.server.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      headers: { 'content-type': 'application/json', ...headers },
      payload: JSON.stringify({ title: 'csrf?' }),
    });

  it('rejects a foreign Host header (DNS rebinding), on reads and writes', async () => {
    for (const method of ['GET', 'POST'] as const) {
      const r = await api.server.inject({
        method,
        url: '/api/v1/tasks',
        headers: { host: 'evil.example', 'content-type': 'application/json' },
        payload: method === 'POST' ? '{"title":"x"}' : undefined,
      });
      assert.equal(r.statusCode, 403, method);
      assert.equal(r.json().error.code, 'host_not_allowed');
    }
    for (const host of ['127.0.0.1:4317', 'localhost', '[::1]:4317']) {
      const ok = await api.server.inject({ method: 'GET', url: '/healthz', headers: { host } });
      assert.equal(ok.statusCode, 200, host);
    }
  });

  it('rejects state-changing requests from a foreign Origin (CSRF)', async () => {
    const before = (await api.server.inject({ method: 'GET', url: '/api/v1/tasks' })).json().total;
    for (const origin of [
      'http://evil.example',
      `http://localhost:${TEST_PORT + 1}`,
      'null',
      'file://',
      'http://localhost.evil.example:4317',
    ]) {
      const r = await post({ origin });
      assert.equal(r.statusCode, 403, origin);
      assert.equal(r.json().error.code, 'origin_not_allowed');
    }
    const crossSite = await post({ 'sec-fetch-site': 'cross-site' });
    assert.equal(crossSite.statusCode, 403);
    const after = (await api.server.inject({ method: 'GET', url: '/api/v1/tasks' })).json().total;
    assert.equal(after, before, 'nothing was created');

    assert.equal((await post({ origin: OWN_ORIGIN })).statusCode, 201);
    assert.equal((await post({ origin: 'http://localhost:5173' })).statusCode, 201, 'configured');
    assert.equal((await post({})).statusCode, 201, 'no Origin: not a browser');
  });
});

describe('HTTP API security: no simple cross-site request changes the board', () => {
  let api: ApiBoard;
  before(async () => {
    api = await apiBoard();
  });
  after(() => api.close());

  const newTask = async (title: string): Promise<string> => {
    const r = await api.call('POST', '/api/v1/tasks', { title });
    assert.equal(r.statusCode, 201, r.body);
    return r.json().id;
  };
  const task = async (id: string) =>
    (await api.server.inject({ method: 'GET', url: `/api/v1/tasks/${id}` })).json();
  const cancel = (id: string, headers: Record<string, string>, payload?: string) =>
    api.server.inject({
      method: 'POST',
      url: `/api/v1/tasks/${id}/cancel`,
      headers,
      ...(payload === undefined ? {} : { payload }),
    });

  it('refuses a text/plain POST with no Origin to a body-less route, and changes nothing', async () => {
    const id = await newTask('text/plain target');
    const before = await task(id);
    // What `fetch(url, {method: 'POST', mode: 'no-cors', body: 'x'})` or a
    // `<form enctype="text/plain">` on any site sends: no Origin checkable, no preflight.
    const r = await cancel(id, { 'content-type': 'text/plain;charset=UTF-8' }, 'x');
    const e = assertErrorShape(r, 'text/plain');
    assert.equal(r.statusCode, 415);
    assert.equal(e.code, 'unsupported_media_type');
    assert.match(e.message, /Content-Type: application\/json/);
    assert.match(e.message, new RegExp(`${REQUEST_HEADER}: 1`));
    assert.deepEqual(await task(id), before, 'the task is unchanged');
  });

  it('refuses a form-encoded or multipart POST the same way', async () => {
    const id = await newTask('form target');
    const before = await task(id);
    const form = await cancel(id, { 'content-type': 'application/x-www-form-urlencoded' }, 'a=1');
    assert.equal(form.statusCode, 415);
    assert.equal(assertErrorShape(form, 'form').code, 'unsupported_media_type');
    // A form with no fields sends an empty body, which no body parser ever sees.
    const empty = await cancel(id, { 'content-type': 'application/x-www-form-urlencoded' }, '');
    assert.equal(empty.statusCode, 415, empty.body);
    const multi = await cancel(
      id,
      { 'content-type': 'multipart/form-data; boundary=x' },
      '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--\r\n',
    );
    assert.equal(multi.statusCode, 415);
    // Creating a task from a form is refused before its body is read.
    const created = await api.server.inject({
      method: 'POST',
      url: '/api/v1/tasks',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'title=forged',
    });
    assert.equal(created.statusCode, 415);
    assert.deepEqual(await task(id), before, 'the task is unchanged');
    const list = (await api.server.inject({ method: 'GET', url: '/api/v1/tasks' })).json();
    assert.ok(!list.items.some((t: { title: string }) => t.title === 'forged'));
  });

  it('refuses a body-less write with neither JSON nor the header, whatever its method', async () => {
    const id = await newTask('bare target');
    const before = await task(id);
    const bare = await cancel(id, {});
    const e = assertErrorShape(bare, 'bare');
    assert.equal(bare.statusCode, 403);
    assert.equal(e.code, 'request_header_required');
    assert.match(e.message, new RegExp(`send the header "${REQUEST_HEADER}: 1"`));
    assert.equal(e.details.header, REQUEST_HEADER);
    assert.equal((await cancel(id, { [REQUEST_HEADER]: '' })).statusCode, 403, 'empty header');
    for (const method of ['DELETE', 'PUT', 'PATCH'] as const) {
      const r = await api.server.inject({ method, url: `/api/v1/tasks/${id}` });
      assert.equal(r.statusCode, 403, method);
      assert.equal(r.json().error.code, 'request_header_required', method);
    }
    // Another spelling of the path does not route around the rule.
    for (const url of [`//api/v1/tasks/${id}/cancel`, `/%61pi/v1/tasks/${id}/cancel`]) {
      const r = await api.server.inject({ method: 'POST', url });
      assert.equal(r.statusCode, 403, url);
    }
    assert.deepEqual(await task(id), before, 'the task is unchanged');
  });

  it('lets the header, or a JSON body, through; reads need neither', async () => {
    const a = await newTask('header');
    const withHeader = await cancel(a, { [REQUEST_HEADER]: '1' });
    assert.equal(withHeader.statusCode, 200, withHeader.body);
    assert.equal(withHeader.json().status, 'cancelled');
    // The header also lets a text/plain request reach the route (a preflight would be needed cross-site).
    const b = await newTask('header, text/plain');
    const plain = await cancel(b, { [REQUEST_HEADER]: '1', 'content-type': 'text/plain' }, 'x');
    assert.equal(plain.statusCode, 200, plain.body);
    const c = await newTask('json');
    const json = await cancel(c, { 'content-type': 'application/json; charset=utf-8' }, '{}');
    assert.equal(json.statusCode, 200, json.body);
    assert.equal(json.json().status, 'cancelled');
    const renamed = await api.server.inject({
      method: 'PATCH',
      url: `/api/v1/tasks/${await newTask('rename')}`,
      payload: { title: 'renamed' },
    });
    assert.equal(renamed.statusCode, 200, 'an object payload is sent as JSON');
    assert.equal(renamed.json().title, 'renamed');

    for (const url of ['/api/v1/tasks', `/api/v1/tasks/${a}`, '/healthz', '/openapi.json']) {
      const r = await api.server.inject({ method: 'GET', url });
      assert.equal(r.statusCode, 200, url);
    }
    const head = await api.server.inject({ method: 'HEAD', url: '/api/v1/tasks' });
    assert.equal(head.statusCode, 200);
  });
});

describe('HTTP API security: the token off loopback', () => {
  let api: ApiBoard;
  let token: string;
  let home: string;
  before(async () => {
    api = await apiBoard({ security: { bindHost: '0.0.0.0', authFailuresPerMinute: 5 } });
    home = api.app.paths.home;
    token = ensureApiToken(home).token;
    await api.close();
    api = await apiBoard({
      board: api.board,
      security: {
        bindHost: '0.0.0.0',
        verifyToken: apiTokenVerifier(home),
        authFailuresPerMinute: 5,
      },
    });
  });
  after(() => api.close());

  const get = (headers: Record<string, string>, remoteAddress = '10.0.0.1') =>
    api.server.inject({ method: 'GET', url: '/api/v1/tasks', headers, remoteAddress });

  it('makes the token once, then keeps it', () => {
    assert.match(token, /^abt_[A-Za-z0-9_-]{40,}$/);
    assert.equal(ensureApiToken(home).token, token);
  });

  it('needs the Bearer token (or the board cookie); /healthz stays open', async () => {
    const none = await get({});
    assert.equal(none.statusCode, 401);
    assert.equal(none.json().error.code, 'unauthorized');
    assert.equal(none.headers['www-authenticate'], 'Bearer realm="agentboard"');
    assert.equal((await get({ authorization: 'Bearer nope' })).statusCode, 401);
    assert.equal((await get({ authorization: `Bearer ${token}` })).statusCode, 200);
    assert.equal((await get({ cookie: `agentboard_token=${token}` })).statusCode, 200);
    const health = await api.server.inject({ method: 'GET', url: '/healthz' });
    assert.equal(health.statusCode, 200);
  });

  it('limits failed authentications per address', async () => {
    for (let i = 0; i < 5; i++) {
      assert.equal((await get({ authorization: 'Bearer wrong' }, '10.9.9.9')).statusCode, 401);
    }
    const limited = await get({ authorization: 'Bearer wrong' }, '10.9.9.9');
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().error.code, 'too_many_auth_failures');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal((await get({}, '10.9.9.9')).statusCode, 429, 'no token is a failure too');
    assert.equal(
      (await get({ authorization: `Bearer ${token}` }, '10.9.9.9')).statusCode,
      200,
      'the right token still passes',
    );
    assert.equal((await get({ authorization: 'Bearer wrong' }, '10.9.9.10')).statusCode, 401);
  });

  it('rotates: the old token stops working at once', async () => {
    const fresh = rotateApiToken(home);
    assert.notEqual(fresh, token);
    assert.equal((await get({ authorization: `Bearer ${token}` }, '10.1.1.1')).statusCode, 401);
    assert.equal((await get({ authorization: `Bearer ${fresh}` }, '10.1.1.1')).statusCode, 200);
  });
});

describe('HTTP API security: failed-auth limiting cannot lock out the owner or be flushed', () => {
  let api: ApiBoard;
  let token: string;
  // The server's own table, at its default sizes: 20 failures a minute, 10,000 addresses.
  const limiter = new AuthFailureLimiter();
  before(async () => {
    api = await apiBoard({ security: { bindHost: '0.0.0.0' } });
    const home = api.app.paths.home;
    token = ensureApiToken(home).token;
    await api.close();
    api = await apiBoard({
      board: api.board,
      security: { bindHost: '0.0.0.0', verifyToken: apiTokenVerifier(home), authLimiter: limiter },
    });
  });
  after(() => api.close());

  const get = (authorization: string | null, remoteAddress: string) =>
    api.server.inject({
      method: 'GET',
      url: '/api/v1/tasks',
      headers: authorization === null ? {} : { authorization: `Bearer ${authorization}` },
      remoteAddress,
    });

  it("the owner's right token passes after 20 failures from its own address", async () => {
    const owner = '127.0.0.1';
    for (let i = 0; i < 20; i++) assert.equal((await get('guess', owner)).statusCode, 401, `#${i}`);
    assert.equal((await get('guess', owner)).statusCode, 429, 'the address is blocked');
    assert.equal((await get(token, owner)).statusCode, 200, 'the right token passes');
    assert.equal((await get('guess', owner)).statusCode, 429, 'and the block stays');
  });

  it('failures from 10,050 other addresses neither unlock a blocked address nor grow the table past its bound', async () => {
    const attacker = '10.66.0.1';
    for (let i = 0; i < 20; i++) await get('guess', attacker);
    assert.equal((await get('guess', attacker)).statusCode, 429);
    for (let i = 0; i < 10_050; i++) {
      const r = await get('guess', `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
      assert.equal(r.statusCode, 401);
    }
    assert.ok(limiter.size <= 20_000, `the table holds ${limiter.size} addresses`);
    const still = await get('guess', attacker);
    assert.equal(still.statusCode, 429, 'the flood did not unlock the blocked address');
    assert.equal(still.json().error.code, 'too_many_auth_failures');
    assert.equal((await get(token, attacker)).statusCode, 200);
  });
});

describe('the failed-auth table', () => {
  it('evicts only addresses still counting, least recent first, within its bound', () => {
    const l = new AuthFailureLimiter({ limit: 3, maxCounting: 4, maxBlocked: 2, windowMs: 1000 });
    for (let i = 0; i < 3; i++) l.fail('blocked', 0);
    assert.equal(l.blockedFor('blocked', 1), 999);
    l.fail('a', 1);
    l.fail('a', 2);
    for (let i = 0; i < 100; i++) l.fail(`flood-${i}`, 3);
    assert.equal(l.size, 5, '4 counting + 1 blocked');
    assert.equal(l.blockedFor('blocked', 4), 996, 'the flood did not evict the block');
    l.fail('a', 5);
    assert.equal(l.blockedFor('a', 5), null, "a's partial count was evicted, not kept forever");
    assert.equal(l.blockedFor('blocked', 1000), null, 'a block ends with its window');
  });

  it('when the blocked table is full, nobody is unlocked: every other failing address waits', () => {
    const l = new AuthFailureLimiter({ limit: 1, maxCounting: 10, maxBlocked: 2, windowMs: 1000 });
    l.fail('x', 0);
    l.fail('y', 0);
    l.fail('z', 10); // no room: the whole table is under attack
    assert.equal(l.size, 2);
    assert.ok(l.blockedFor('x', 20) !== null && l.blockedFor('y', 20) !== null);
    assert.equal(l.blockedFor('z', 20), 990);
    assert.equal(l.blockedFor('anyone', 20), 990);
    assert.equal(l.blockedFor('anyone', 1010), null, 'until the window has passed');
    assert.equal(l.blockedFor('x', 1010), null);
  });
});
