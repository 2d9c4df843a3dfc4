/**
 * Serving the built board: page routes answer index.html, assets carry their
 * type and a long cache, nothing outside dist/web is reachable, and the page
 * shell loads without the API token (its login form needs it to).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import zlib from 'node:zlib';
import Fastify from 'fastify';
import { addTask } from '../../src/app/tasks.js';
import { serveBoard, WEB_ROOT } from '../../src/server/routes/web.js';
import { type ApiBoard, apiBoard, BOARD_WRITE_HEADERS } from '../support/api.js';
import { tempDir } from '../support/tmp.js';

describe('web route', () => {
  let b: ApiBoard;
  before(async () => {
    b = await apiBoard();
  });
  after(() => b.close());

  it('answers index.html for the board and its client routes, with a CSP', async () => {
    assert.ok(fs.existsSync(path.join(WEB_ROOT, 'index.html')), 'run `npm run build` first');
    for (const url of ['/', '/tasks/T-3', '/runs', '/insights', '/agents', '/activity']) {
      const r = await b.server.inject({ url });
      assert.equal(r.statusCode, 200, url);
      assert.match(String(r.headers['content-type']), /^text\/html/);
      assert.match(r.body, /<div id="root">/);
      assert.match(String(r.headers['content-security-policy']), /script-src 'self'/);
      assert.equal(r.headers['cache-control'], 'no-cache');
    }
  });

  it('serves hashed assets with their type and a long cache', async () => {
    const assets = fs.readdirSync(path.join(WEB_ROOT, 'assets'));
    const js = assets.find((a) => a.endsWith('.js'));
    const css = assets.find((a) => a.endsWith('.css'));
    assert.ok(js && css);
    const r = await b.server.inject({ url: `/assets/${js}` });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/javascript/);
    assert.match(String(r.headers['cache-control']), /max-age=31536000, immutable/);
    const c = await b.server.inject({ url: `/assets/${css}` });
    assert.match(String(c.headers['content-type']), /^text\/css/);
  });

  it('sends the precompressed copy the client accepts (brotli first), else the file itself', async () => {
    const assets = fs.readdirSync(path.join(WEB_ROOT, 'assets'));
    const js = assets.find((a) => a.endsWith('.js')) as string;
    const plain = fs.readFileSync(path.join(WEB_ROOT, 'assets', js));
    const ask = (encoding?: string) =>
      b.server.inject({
        url: `/assets/${js}`,
        headers: encoding === undefined ? {} : { 'accept-encoding': encoding },
      });
    const br = await ask('gzip, deflate, br');
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers.vary, 'accept-encoding');
    assert.ok(
      br.rawPayload.length < plain.length / 2,
      `${br.rawPayload.length} of ${plain.length}`,
    );
    assert.deepEqual(zlib.brotliDecompressSync(br.rawPayload), plain);
    const gz = await ask('gzip');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.deepEqual(zlib.gunzipSync(gz.rawPayload), plain);
    // br refused with q=0: gzip.
    assert.equal((await ask('br;q=0, gzip;q=0.5')).headers['content-encoding'], 'gzip');
    for (const none of [undefined, 'identity', 'br;q=0, gzip;q=0, *;q=0']) {
      const r = await ask(none);
      assert.equal(r.headers['content-encoding'], undefined, String(none));
      assert.deepEqual(r.rawPayload, plain);
    }
    // The copies are not assets of their own.
    assert.equal((await b.server.inject({ url: `/assets/${js}.br` })).statusCode, 404);
  });

  it('answers a JSON 404 for missing assets and refuses to leave dist/web', async () => {
    for (const url of [
      '/assets/nope-123.js',
      '/assets/..%2F..%2Fpackage.json',
      '/assets/%2e%2e%2findex.html',
      '/assets/.hidden.js',
      '/assets/x.exe',
      '/assets/../../package.json',
    ]) {
      const r = await b.server.inject({ url });
      assert.equal(r.statusCode, 404, url);
      assert.match(String(r.headers['content-type']), /application\/json/, url);
      assert.doesNotMatch(r.body, /"name": "agentboard"/);
    }
    const api = await b.server.inject({ url: '/api/v1/nope' });
    assert.equal(api.statusCode, 404);
    assert.equal(api.json().error.code, 'route_not_found');
  });

  it('says how to build the board when dist/web is missing', async () => {
    const f = Fastify();
    serveBoard(f, path.join(tempDir('agentboard-noweb-'), 'web'));
    const r = await f.inject({ url: '/' });
    assert.equal(r.statusCode, 503);
    assert.match(r.body, /npm run build/);
    await f.close();
  });

  it('gives each card its latest run, run count and cost', async () => {
    const t = await addTask(b.app, { title: 'a card', status: 'backlog' });
    const r = await b.server.inject({ url: `/api/v1/cards?task=${t.id},T-999` });
    assert.equal(r.statusCode, 200);
    const items = r.json().items as { task: string; runs: number; run: unknown }[];
    assert.deepEqual(
      items.map((c) => [c.task, c.runs, c.run]),
      [
        [t.id, 0, null],
        ['T-999', 0, null],
      ],
    );
    const started = await b.server.inject({
      method: 'POST',
      url: `/api/v1/tasks/${t.id}/runs`,
      headers: BOARD_WRITE_HEADERS,
      payload: { agent: 'bot' },
    });
    assert.equal(started.statusCode, 202);
    const after = (await b.server.inject({ url: `/api/v1/cards?task=${t.id}` })).json();
    assert.equal(after.items[0].runs, 1);
    assert.equal(after.items[0].run.state, 'queued');
    assert.equal(after.items[0].run.attempt, 1);
    const bad = await b.server.inject({ url: '/api/v1/cards?task=nope' });
    assert.equal(bad.statusCode, 400);
  });
});

describe('recent board events', () => {
  let b: ApiBoard;
  before(async () => {
    b = await apiBoard();
  });
  after(() => b.close());

  it('gives the latest events oldest first and the id the live feed resumes after', async () => {
    const empty = (await b.server.inject({ url: '/api/v1/events/recent' })).json();
    assert.deepEqual(empty, { items: [], last: 0 });
    for (let i = 0; i < 5; i++) await addTask(b.app, { title: `t${i}`, status: 'backlog' });
    const r = (await b.server.inject({ url: '/api/v1/events/recent?limit=3' })).json() as {
      items: { id: number; type: string; taskId: string }[];
      last: number;
    };
    assert.equal(r.last, 5);
    assert.deepEqual(
      r.items.map((e) => [e.id, e.type, e.taskId]),
      [
        [3, 'task.created', 'T-3'],
        [4, 'task.created', 'T-4'],
        [5, 'task.created', 'T-5'],
      ],
    );
    const bad = await b.server.inject({ url: '/api/v1/events/recent?limit=0' });
    assert.equal(bad.statusCode, 400);
  });
});

describe('web route off loopback', () => {
  let b: ApiBoard;
  before(async () => {
    b = await apiBoard({ security: { verifyToken: (t) => t === 'secret-token' } });
  });
  after(() => b.close());

  it('loads the page shell without a token, but not the API', async () => {
    assert.equal((await b.server.inject({ url: '/' })).statusCode, 200);
    assert.equal((await b.server.inject({ url: '/tasks/T-1' })).statusCode, 200);
    assert.equal((await b.server.inject({ url: '/api/v1/tasks' })).statusCode, 401);
    const cookie = await b.server.inject({
      url: '/api/v1/tasks',
      headers: { cookie: 'agentboard_token=secret-token' },
    });
    assert.equal(cookie.statusCode, 200);
    const post = await b.server.inject({
      method: 'POST',
      url: '/',
      headers: BOARD_WRITE_HEADERS,
    });
    assert.equal(post.statusCode, 401);
  });
});
