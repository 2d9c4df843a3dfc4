/**
 * The board event feed over real sockets: delivery, resumption from
 * Last-Event-ID and ?after, other-process commits, big backlogs, heartbeats,
 * validation, security, and shutdown.
 */
import assert from 'node:assert/strict';
import test from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { readEvents } from '../../src/store/events.js';
import { apiBoard } from '../support/api.js';
import { getJson, listeningBoard, SseClient } from './sse-helpers.js';

const STREAM = '/api/v1/events/stream';

async function allIds(app: Parameters<typeof addTask>[0]): Promise<number[]> {
  return (await readEvents(app.store.db, { after: 0, limit: 100_000 })).map((e) => e.id);
}

function ids(c: SseClient): number[] {
  return c.messages.map((m) => Number(m.id));
}

test('?after=0 replays the history, then new commits arrive at once, in the contract’s shape', async () => {
  const b = await listeningBoard();
  try {
    await addTask(b.app, { title: 'first' });
    await addTask(b.app, { title: 'second' });
    const before = await allIds(b.app);
    const c = await SseClient.connect(`${b.url}${STREAM}?after=0`);
    assert.equal(c.status, 200);
    assert.match(String(c.res.headers['content-type']), /^text\/event-stream/);
    assert.equal(c.res.headers['cache-control'], 'no-cache');
    assert.equal(c.res.headers['x-accel-buffering'], 'no');
    await c.until('the history', () => c.messages.length >= before.length);
    assert.deepEqual(ids(c), before);

    const t = await addTask(b.app, { title: 'third' });
    await addTask(b.app, { title: 'fourth' });
    const after = await allIds(b.app);
    await c.until('the new events', () => c.messages.length >= after.length);
    assert.deepEqual(ids(c), after);
    const created = c.messages.find(
      (m) => m.event === 'task.created' && JSON.parse(m.data).taskId === t.id,
    );
    assert.ok(created, 'no task.created event for the new task');
    const data = JSON.parse(created.data);
    assert.deepEqual(Object.keys(data).sort(), [
      'createdAt',
      'data',
      'id',
      'runId',
      'taskId',
      'type',
    ]);
    assert.equal(data.id, Number(created.id));
    assert.equal(data.type, 'task.created');
    assert.equal(data.runId, null);
    assert.equal(new Date(data.createdAt).toISOString(), data.createdAt);
    c.close();
  } finally {
    await b.close();
  }
});

test('no cursor: only events committed after the connect', async () => {
  const b = await listeningBoard();
  try {
    await addTask(b.app, { title: 'old' });
    const old = await allIds(b.app);
    const c = await SseClient.connect(`${b.url}${STREAM}`);
    const t = await addTask(b.app, { title: 'new' });
    const fresh = (await allIds(b.app)).filter((id) => !old.includes(id));
    await c.until('the new event', () => c.messages.length >= fresh.length);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(ids(c), fresh);
    assert.equal(JSON.parse(c.messages[0]?.data ?? '{}').taskId, t.id);
    c.close();
  } finally {
    await b.close();
  }
});

test('Last-Event-ID resumes right after it and wins over ?after', async () => {
  const b = await listeningBoard();
  try {
    for (let i = 0; i < 10; i++) await addTask(b.app, { title: `t${i}` });
    const all = await allIds(b.app);
    const c = await SseClient.connect(`${b.url}${STREAM}?after=1`, { 'last-event-id': '4' });
    await c.until('the rest', () => c.messages.length >= all.length - 4);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(
      ids(c),
      all.filter((id) => id > 4),
    );
    c.close();
    // A cursor past the end (another board's) starts from now rather than waiting forever.
    const ahead = await SseClient.connect(`${b.url}${STREAM}`, { 'last-event-id': '999999' });
    await addTask(b.app, { title: 'after the reset' });
    const last = (await allIds(b.app)).at(-1);
    await ahead.until('the new event', () => ahead.messages.length >= 1);
    assert.deepEqual(ids(ahead), [last]);
    ahead.close();
  } finally {
    await b.close();
  }
});

test('commits by another process (another connection to the file) are noticed by polling', async () => {
  const b = await listeningBoard({ sse: { eventPollMs: 20 } });
  const other = await b.board.open();
  try {
    const c = await SseClient.connect(`${b.url}${STREAM}`);
    // Let the feed start watching before the other connection commits.
    await new Promise((r) => setTimeout(r, 50));
    const t = await addTask(other, { title: 'from the CLI' });
    await c.until('the other process’s event', () =>
      c.messages.some((m) => JSON.parse(m.data).taskId === t.id),
    );
    c.close();
  } finally {
    await other.store.close();
    await b.close();
  }
});

test('a backlog larger than the window and the page arrives whole, in order, paged', async () => {
  const b = await listeningBoard();
  try {
    for (let i = 0; i < 1500; i++) await addTask(b.app, { title: `bulk ${i}` });
    const all = await allIds(b.app);
    assert.ok(all.length >= 1500);
    const late = await SseClient.connect(`${b.url}${STREAM}?after=0`);
    await late.until('the whole backlog', () => late.messages.length >= all.length, 20_000);
    assert.deepEqual(ids(late), all);
    late.close();
  } finally {
    await b.close();
  }
});

test('a caught-up client follows a burst of commits without a gap or a repeat', async () => {
  const b = await listeningBoard();
  try {
    const c = await SseClient.connect(`${b.url}${STREAM}?after=0`);
    const slow = await SseClient.connect(`${b.url}${STREAM}?after=0`);
    slow.pause();
    await Promise.all(
      Array.from({ length: 4 }, async (_, k) => {
        for (let i = 0; i < 400; i++) await addTask(b.app, { title: `burst ${k}.${i}` });
      }),
    );
    const all = await allIds(b.app);
    await c.until('the burst', () => c.messages.length >= all.length, 20_000);
    assert.deepEqual(ids(c), all);
    slow.resume();
    await slow.until('the burst, late', () => slow.messages.length >= all.length, 20_000);
    assert.deepEqual(ids(slow), all);
    c.close();
    slow.close();
  } finally {
    await b.close();
  }
});

test('an idle stream gets `: ping` comments at the heartbeat interval', async () => {
  const b = await listeningBoard({ sse: { heartbeatMs: 40 } });
  try {
    const c = await SseClient.connect(`${b.url}${STREAM}`);
    await c.until('three pings', () => c.comments.filter((x) => x === 'ping').length >= 3, 5000);
    assert.equal(c.messages.length, 0);
    c.close();
  } finally {
    await b.close();
  }
});

test('bad cursors are 400 invalid_request naming the field; nothing is streamed', async () => {
  const b = await listeningBoard();
  try {
    for (const [q, field] of [
      ['?after=-1', 'query.after'],
      ['?after=abc', 'query.after'],
      ['?since=3', 'query.since'],
    ] as const) {
      const r = await getJson(`${b.url}${STREAM}${q}`);
      assert.equal(r.status, 400, q);
      assert.equal((r.body as { error: { code: string } }).error.code, 'invalid_request');
      assert.match(JSON.stringify(r.body), new RegExp(field.replace('.', '\\.')));
    }
    const r = await fetch(`${b.url}${STREAM}`, { headers: { 'last-event-id': 'x1' } });
    assert.equal(r.status, 400);
    assert.match(await r.text(), /last-event-id/);
  } finally {
    await b.close();
  }
});

test('the stream is behind the same Host check and token as every route', async () => {
  const a = await apiBoard({ security: { verifyToken: (t) => t === 'right-token-123' } });
  try {
    const bad = await a.server.inject({ url: STREAM, headers: { host: 'evil.example:80' } });
    assert.equal(bad.statusCode, 403);
    assert.equal(bad.json().error.code, 'host_not_allowed');
    const anon = await a.server.inject({ url: STREAM });
    assert.equal(anon.statusCode, 401);
    const ok = await a.server.inject({
      url: `${STREAM}?after=0`,
      headers: { authorization: 'Bearer right-token-123' },
      payloadAsStream: true,
    });
    assert.equal(ok.statusCode, 200);
    assert.match(String(ok.headers['content-type']), /^text\/event-stream/);
    await addTask(a.app, { title: 'seen through inject' });
    const stream = ok.stream();
    let text = '';
    for await (const chunk of stream) {
      text += chunk.toString();
      if (text.includes('event: task.created')) break;
    }
    assert.match(
      text,
      /^id: 1\nevent: task\.created\ndata: \{"id":1,"type":"task\.created","taskId":"T-1"/m,
    );
  } finally {
    await a.close();
  }
});

test('GET /api/v1/events lists after a cursor, filtered by task', async () => {
  const b = await listeningBoard();
  try {
    const t1 = await addTask(b.app, { title: 'one' });
    await addTask(b.app, { title: 'two' });
    const all = await allIds(b.app);
    const page = await getJson(`${b.url}/api/v1/events?after=0&limit=1`);
    assert.equal(page.status, 200);
    const body = page.body as { items: { id: number }[]; next: number; more: boolean };
    assert.deepEqual(
      body.items.map((e) => e.id),
      [all[0]],
    );
    assert.equal(body.next, all[0]);
    assert.equal(body.more, true);
    const rest = (await getJson(`${b.url}/api/v1/events?after=${body.next}`)).body as typeof body;
    assert.deepEqual(
      rest.items.map((e) => e.id),
      all.slice(1),
    );
    assert.equal(rest.more, false);
    const mine = (await getJson(`${b.url}/api/v1/events?task=${t1.id}`)).body as {
      items: { taskId: string }[];
    };
    assert.ok(mine.items.length > 0);
    assert.ok(mine.items.every((e) => e.taskId === t1.id));
    const bad = await getJson(`${b.url}/api/v1/events?limit=0`);
    assert.equal(bad.status, 400);
  } finally {
    await b.close();
  }
});

test('closing the server ends open streams (it does not wait for them)', {
  timeout: 15_000,
}, async () => {
  const b = await listeningBoard();
  const c = await SseClient.connect(`${b.url}${STREAM}`);
  const other = await SseClient.connect(`${b.url}${STREAM}?after=0`);
  await b.close();
  await Promise.all([c.ended, other.ended]);
  assert.ok(c.isEnded && other.isEnded);
});
