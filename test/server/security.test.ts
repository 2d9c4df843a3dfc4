import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiTokenVerifier, ensureApiToken, rotateApiToken } from '../../src/app/api-token.js';
import { type ApiBoard, apiBoard, OWN_ORIGIN, TEST_PORT } from '../support/api.js';

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

describe('HTTP API security: the token off loopback', () => {
  let api: ApiBoard;
  let token: string;
  let home: string;
  before(async () => {
    api = await apiBoard({ security: { bindHost: '0.0.0.0', authFailuresPerMinute: 5 } });
    home = api.app.paths.home;
    token = ensureApiToken(home) as string;
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
    assert.equal(ensureApiToken(home), null);
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
    for (let i = 0; i < 5; i++) await get({ authorization: 'Bearer wrong' }, '10.9.9.9');
    const limited = await get({ authorization: `Bearer ${token}` }, '10.9.9.9');
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().error.code, 'too_many_auth_failures');
    assert.ok(Number(limited.headers['retry-after']) > 0);
    assert.equal(
      (await get({ authorization: `Bearer ${token}` }, '10.9.9.10')).statusCode,
      200,
      'other addresses are unaffected',
    );
  });

  it('rotates: the old token stops working at once', async () => {
    const fresh = rotateApiToken(home);
    assert.notEqual(fresh, token);
    assert.equal((await get({ authorization: `Bearer ${token}` }, '10.1.1.1')).statusCode, 401);
    assert.equal((await get({ authorization: `Bearer ${fresh}` }, '10.1.1.1')).statusCode, 200);
  });
});
