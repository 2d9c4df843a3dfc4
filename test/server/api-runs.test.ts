import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runDir } from '../../src/config/home.js';
import { insertRunEvents } from '../../src/store/run-events.js';
import { type ApiBoard, apiBoard } from '../support/api.js';
import { testConfig } from '../support/board.js';

const SECRET = 'tok-1234567890-very-secret';

describe('HTTP API: runs, logs and run events', () => {
  let api: ApiBoard;
  before(async () => {
    api = await apiBoard({
      config: testConfig({ board: { autostart: false } }),
      secrets: [SECRET],
    });
  });
  after(() => api.close());

  const call: ApiBoard['call'] = (method, url, payload) => api.call(method, url, payload);

  async function queuedRun(): Promise<{ task: string; run: string }> {
    const t = (await call('POST', '/api/v1/tasks', { title: 'run me', agent: 'bot' })).json();
    const r = await call('POST', `/api/v1/tasks/${t.id}/runs`);
    assert.equal(r.statusCode, 202, r.body);
    assert.equal(r.json().state, 'queued');
    return { task: t.id, run: r.json().id };
  }

  it('starts a run (202), refuses a second with 409 naming the active run, and stops it', async () => {
    const { task, run } = await queuedRun();
    const again = await call('POST', `/api/v1/tasks/${task}/runs`, { agent: 'helper' });
    assert.equal(again.statusCode, 409);
    assert.equal(again.json().error.code, 'run_active');
    assert.equal(again.json().error.details.activeRun, run);
    assert.match(again.json().error.message, new RegExp(run));

    const got = await call('GET', `/api/v1/runs/${run}`);
    assert.equal(got.json().task, task);
    const listed = (await call('GET', `/api/v1/runs?task=${task}&state=queued`)).json();
    assert.deepEqual(
      listed.items.map((r: { id: string }) => r.id),
      [run],
    );

    const stopped = await call('POST', `/api/v1/runs/${run}/stop`);
    assert.equal(stopped.statusCode, 202, stopped.body);
    assert.equal(stopped.json().state, 'cancelled');
    const twice = await call('POST', `/api/v1/runs/${run}/stop`);
    assert.equal(twice.statusCode, 409);
  });

  it('answers unknown runs and tasks with 404 and bad ids with 400', async () => {
    const missing = await call('GET', '/api/v1/runs/r0000000000000000000000');
    assert.equal(missing.statusCode, 404);
    const bad = await call('GET', '/api/v1/runs/..%2F..%2Fetc%2Fpasswd/logs');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.details.field, 'params.id');
    const noTask = await call('POST', '/api/v1/tasks/T-424242/runs');
    assert.equal(noTask.statusCode, 404);
    const badBody = await call('POST', '/api/v1/tasks/T-1/runs', { agent: 7 });
    assert.equal(badBody.statusCode, 400);
    assert.equal(badBody.json().error.details.field, 'body.agent');
  });

  it('serves byte ranges of a log, redacted without shifting offsets', async () => {
    const { run } = await queuedRun();
    const dir = runDir(api.app.paths, run);
    fs.mkdirSync(dir, { recursive: true });
    const text = `line one\nkey=${SECRET}\nünïcödé line\n`;
    fs.writeFileSync(path.join(dir, 'stdout.log'), text);
    fs.writeFileSync(path.join(dir, 'stderr.log'), 'oops\n');
    const size = Buffer.byteLength(text);

    const all = await call('GET', `/api/v1/runs/${run}/logs`);
    assert.equal(all.statusCode, 200);
    assert.equal(all.headers['x-log-size'], String(size));
    assert.equal(all.rawPayload.length, size, 'masking keeps the length');
    assert.ok(!all.body.includes(SECRET));
    assert.ok(all.body.includes('*'.repeat(SECRET.length)));

    // A range that starts inside the secret still masks the part it shows.
    const inside = text.indexOf(SECRET) + 5;
    const part = await call('GET', `/api/v1/runs/${run}/logs?offset=${inside}&limit=10`);
    assert.equal(part.body, '*'.repeat(10));
    assert.equal(part.headers['x-next-offset'], String(inside + 10));

    const err = await call('GET', `/api/v1/runs/${run}/logs?stream=stderr`);
    assert.equal(err.body, 'oops\n');
    const end = await call('GET', `/api/v1/runs/${run}/logs?offset=${size}`);
    assert.equal(end.statusCode, 200);
    assert.equal(end.rawPayload.length, 0);

    for (const q of [
      'offset=-1',
      'limit=0',
      'limit=99999999999',
      'stream=../../etc',
      'offset=1e3',
    ]) {
      const r = await call('GET', `/api/v1/runs/${run}/logs?${q}`);
      assert.equal(r.statusCode, 400, q);
    }
    const past = await call('GET', `/api/v1/runs/${run}/logs?offset=${size + 1}`);
    assert.equal(past.statusCode, 416);
    assert.equal(past.json().error.code, 'range_not_satisfiable');
  });

  it('pages through normalized run events with a cursor', async () => {
    const { run } = await queuedRun();
    await api.app.store.tx((tx) =>
      insertRunEvents(tx, run, 1, [
        { type: 'message', text: 'hello' },
        { type: 'tool_call', id: 't1', name: 'bash', kind: 'shell', input: { command: 'ls' } },
        { type: 'message', text: `the key is ${SECRET}` },
      ] as never),
    );
    const first = (await call('GET', `/api/v1/runs/${run}/events?limit=2`)).json();
    assert.deepEqual(
      first.items.map((e: { seq: number; type: string }) => [e.seq, e.type]),
      [
        [1, 'message'],
        [2, 'tool_call'],
      ],
    );
    assert.equal(first.more, true);
    const rest = (await call('GET', `/api/v1/runs/${run}/events?after=${first.next}`)).json();
    assert.equal(rest.items.length, 1);
    assert.ok(!JSON.stringify(rest).includes(SECRET), 'events are redacted');
    const onlyTools = (await call('GET', `/api/v1/runs/${run}/events?type=tool_call`)).json();
    assert.equal(onlyTools.items.length, 1);
  });
});
