/**
 * A run's live log over SSE: the test plays the agent (it appends to the
 * run's log file) and ends the run through the store, or a real engine runs
 * a command agent. Checks contiguity (every byte once, ids are offsets),
 * redaction across writes, UTF-8 boundaries, resumption, slow clients,
 * validation and the final `exit` event.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startRun, stopRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import { runDir } from '../../src/config/home.js';
import { startEngine } from '../../src/engine/engine.js';
import { getRun } from '../../src/store/runs.js';
import { apiBoard } from '../support/api.js';
import { testConfig } from '../support/board.js';
import { getJson, type ListeningBoard, listeningBoard, SseClient } from './sse-helpers.js';

const manual = testConfig({ board: { autostart: false } });

/** A queued run whose log the test writes; the engine is not running. */
async function queuedRun(b: { app: ListeningBoard['app'] }) {
  const t = await addTask(b.app, { title: 'streamed', agent: 'bot' });
  const run = await startRun(b.app, Number(t.id.slice(2)));
  const dir = runDir(b.app.paths, run.id);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'stdout.log');
  return {
    id: run.id,
    file,
    append: (s: string | Buffer) => fs.appendFileSync(file, s),
    end: () => stopRun(b.app, run.id),
  };
}

interface LogMsg {
  id: number;
  offset: number;
  text: string;
}

function logs(c: SseClient): LogMsg[] {
  return c.messages
    .filter((m) => m.event === 'log')
    .map((m) => ({
      id: Number(m.id),
      ...(JSON.parse(m.data) as { offset: number; text: string }),
    }));
}

/** The concatenated text, after checking every piece starts where the last ended and its id is its end. */
function contiguous(c: SseClient, from = 0): string {
  let at = from;
  let text = '';
  for (const l of logs(c)) {
    assert.equal(l.offset, at, 'a gap or an overlap between log events');
    at += Buffer.byteLength(l.text);
    assert.equal(l.id, at, 'the id is not the byte offset after the piece');
    text += l.text;
  }
  return text;
}

function exitOf(c: SseClient): Record<string, unknown> | undefined {
  const m = c.messages.find((x) => x.event === 'exit');
  return m ? (JSON.parse(m.data) as Record<string, unknown>) : undefined;
}

test('live: pieces arrive as written; the run’s end drains the file, sends exit and closes', async () => {
  const b = await listeningBoard({ config: manual });
  try {
    const run = await queuedRun(b);
    const c = await SseClient.connect(`${b.url}/api/v1/runs/${run.id}/logs/stream`);
    assert.equal(c.status, 200);
    let written = '';
    for (let i = 0; i < 20; i++) {
      const line = `line ${i} ${'x'.repeat(40)}\n`;
      run.append(line);
      written += line;
    }
    // All but the held-back tail arrives before the run ends.
    await c.until('the first lines', () => contiguous(c).length >= written.length - 64);
    assert.ok(!c.isEnded);
    run.append('last words');
    written += 'last words';
    await run.end();
    await c.ended;
    assert.equal(contiguous(c), written);
    assert.deepEqual(exitOf(c), {
      state: 'cancelled',
      exitCode: null,
      exitSignal: null,
      errorSummary: (await getRun(b.app.store.db, run.id))?.error_summary ?? null,
    });
    assert.equal(c.messages.at(-1)?.event, 'exit');
    assert.equal(c.lastId, String(Buffer.byteLength(written)));
  } finally {
    await b.close();
  }
});

test('a secret split across two writes is still masked', async () => {
  const secret = 'hunter2-very-secret-value';
  const b = await listeningBoard({ config: manual, secrets: [secret] });
  try {
    const run = await queuedRun(b);
    const c = await SseClient.connect(`${b.url}/api/v1/runs/${run.id}/logs/stream`);
    const head = `${'a'.repeat(200)}\nthe key is ${secret.slice(0, 9)}`;
    run.append(head);
    await sleep(300); // the first half sits alone in the file for a while
    const tail = `${secret.slice(9)} and more\n${'b'.repeat(200)}\n`;
    run.append(tail);
    await sleep(200);
    await run.end();
    await c.ended;
    const text = contiguous(c);
    assert.equal(text.length, head.length + tail.length);
    assert.ok(!text.includes(secret.slice(0, 9)), `the secret's first half leaked: ${text}`);
    assert.ok(!text.includes(secret.slice(9)), 'the second half leaked');
    assert.ok(text.includes(`the key is ${'*'.repeat(secret.length)} and more`));
  } finally {
    await b.close();
  }
});

test('a multi-byte character cut across writes is never split between events', async () => {
  const b = await listeningBoard({ config: manual });
  try {
    const run = await queuedRun(b);
    const c = await SseClient.connect(`${b.url}/api/v1/runs/${run.id}/logs/stream`);
    const text = `${'é'.repeat(100)}😀 naïve ${'€'.repeat(50)}\n${'日本語'.repeat(40)}\n`;
    const bytes = Buffer.from(text);
    // Cut inside characters: the 4-byte emoji after its 2nd byte, and elsewhere.
    const emoji = bytes.indexOf(Buffer.from('😀'));
    const cuts = [1, 101, emoji + 2, emoji + 3, bytes.length - 70, bytes.length - 1];
    let at = 0;
    for (const cut of cuts) {
      run.append(bytes.subarray(at, cut));
      at = cut;
      await sleep(60);
    }
    run.append(bytes.subarray(at));
    await sleep(100);
    await run.end();
    await c.ended;
    assert.ok(logs(c).length >= 2, 'expected several pieces');
    for (const l of logs(c)) assert.ok(!l.text.includes('\uFFFD'), `a split character: ${l.text}`);
    assert.equal(contiguous(c), text);
  } finally {
    await b.close();
  }
});

test('resumes from Last-Event-ID (a byte offset) or ?offset; a finished run streams to its end', async () => {
  const b = await listeningBoard({ config: manual });
  try {
    const run = await queuedRun(b);
    const body = 'abcdefghij'.repeat(30_000); // 300 kB: several chunks
    run.append(body);
    await run.end();
    const full = await SseClient.connect(`${b.url}/api/v1/runs/${run.id}/logs/stream`);
    await full.ended;
    assert.equal(contiguous(full), body);
    assert.equal(exitOf(full)?.state, 'cancelled');

    const fromHeader = await SseClient.connect(
      `${b.url}/api/v1/runs/${run.id}/logs/stream?offset=5`,
      { 'last-event-id': '123456' },
    );
    await fromHeader.ended;
    assert.equal(contiguous(fromHeader, 123456), body.slice(123456));

    const fromQuery = await SseClient.connect(
      `${b.url}/api/v1/runs/${run.id}/logs/stream?offset=${body.length - 3}`,
    );
    await fromQuery.ended;
    assert.equal(contiguous(fromQuery, body.length - 3), 'hij');

    // At the very end: only the exit.
    const atEnd = await SseClient.connect(`${b.url}/api/v1/runs/${run.id}/logs/stream`, {
      'last-event-id': String(body.length),
    });
    await atEnd.ended;
    assert.deepEqual(
      atEnd.messages.map((m) => m.event),
      ['exit'],
    );
  } finally {
    await b.close();
  }
});

test('inject(): a finished run’s stream is a complete SSE body', async () => {
  const a = await apiBoard({ config: manual });
  try {
    const run = await queuedRun(a);
    run.append('hello\nworld\n');
    await run.end();
    const r = await a.server.inject({ url: `/api/v1/runs/${run.id}/logs/stream?stream=stdout` });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/event-stream/);
    assert.equal(
      r.body,
      'id: 12\nevent: log\ndata: {"offset":0,"text":"hello\\nworld\\n"}\n\n' +
        'event: exit\ndata: {"state":"cancelled","exitCode":null,"exitSignal":null,"errorSummary":"stopped by user"}\n\n',
    );
    const err = await a.server.inject({ url: `/api/v1/runs/${run.id}/logs/stream?stream=stderr` });
    assert.equal(
      err.body.split('\n\n')[0],
      'event: exit\ndata: {"state":"cancelled","exitCode":null,"exitSignal":null,"errorSummary":"stopped by user"}',
    );
  } finally {
    await a.close();
  }
});

test('bad requests: unknown run 404, bad offset or stream 400, offset past the end 416', async () => {
  const b = await listeningBoard({ config: manual });
  try {
    const run = await queuedRun(b);
    run.append('0123456789');
    const base = `${b.url}/api/v1/runs/${run.id}/logs/stream`;
    const unknown = `${run.id.slice(0, -1)}${run.id.endsWith('z') ? 'y' : 'z'}`;
    const cases: [string, number, string, Record<string, string>?][] = [
      [`${b.url}/api/v1/runs/${unknown}/logs/stream`, 404, 'not_found'],
      [`${b.url}/api/v1/runs/nope/logs/stream`, 400, 'invalid_request'],
      [`${base}?offset=-1`, 400, 'invalid_request'],
      [`${base}?offset=1.5`, 400, 'invalid_request'],
      [`${base}?stream=stdin`, 400, 'invalid_request'],
      [`${base}?offset=11`, 416, 'range_not_satisfiable'],
      [base, 400, 'invalid_request', { 'last-event-id': '-3' }],
      [base, 416, 'range_not_satisfiable', { 'last-event-id': '99' }],
    ];
    for (const [url, status, code, headers] of cases) {
      const r = await fetch(url, { headers });
      assert.equal(r.status, status, url);
      assert.equal(((await r.json()) as { error: { code: string } }).error.code, code, url);
    }
    const ok = await getJson(`${b.url}/api/v1/runs/${run.id}`);
    assert.equal(ok.status, 200);
  } finally {
    await b.close();
  }
});

test('many clients share the follower; a stalled one catches up from the file; all get the same bytes', async () => {
  const b = await listeningBoard({ config: manual, sse: { clientBufferBytes: 64 * 1024 } });
  try {
    const run = await queuedRun(b);
    run.append('preamble\n'.repeat(1000));
    const url = `${b.url}/api/v1/runs/${run.id}/logs/stream`;
    const clients = await Promise.all(Array.from({ length: 20 }, () => SseClient.connect(url)));
    const stalled = await SseClient.connect(url);
    stalled.pause();
    let expected = 'preamble\n'.repeat(1000);
    for (let i = 0; i < 200; i++) {
      const piece = `${String(i).padStart(6, '0')} ${'z'.repeat(20_000)}\n`;
      run.append(piece);
      expected += piece;
      if (i % 20 === 0) await sleep(5);
    }
    // A late joiner from the start, while the others are live.
    const late = await SseClient.connect(url);
    await sleep(200);
    await run.end();
    await Promise.all(clients.map((c) => c.ended));
    await late.ended;
    assert.ok(!stalled.isEnded);
    stalled.resume();
    await stalled.ended;
    for (const c of [...clients, late, stalled]) {
      assert.equal(contiguous(c), expected);
      assert.equal(exitOf(c)?.state, 'cancelled');
    }
  } finally {
    await b.close();
  }
});

test('heartbeats on an idle log stream; closing the server ends it', async () => {
  const b = await listeningBoard({ config: manual, sse: { heartbeatMs: 40 } });
  const run = await queuedRun(b);
  const c = await SseClient.connect(`${b.url}/api/v1/runs/${run.id}/logs/stream`);
  await c.until('two pings', () => c.comments.filter((x) => x === 'ping').length >= 2, 5000);
  await b.close();
  await c.ended;
  assert.equal(exitOf(c), undefined);
});

test('a real command agent: its output, then exit with its code', async () => {
  const b = await listeningBoard({
    config: testConfig({
      board: { autostart: true },
      defaults: { max_attempts: 1 },
      agents: {
        bot: {
          kind: 'command',
          command: '/bin/sh',
          args: ['-c', 'for i in 1 2 3; do echo "step $i"; sleep 0.1; done; echo oops >&2; exit 3'],
        },
      },
    }),
  });
  const engine = await startEngine(b.app, { log: { info: () => {}, warn: () => {} } });
  try {
    const t = await addTask(b.app, { title: 'real', agent: 'bot' });
    const runId = await (async () => {
      for (;;) {
        const r = await getJson(`${b.url}/api/v1/runs?task=${t.id}`);
        const id = (r.body as { items: { id: string }[] }).items[0]?.id;
        if (id) return id;
        await sleep(10);
      }
    })();
    const out = await SseClient.connect(`${b.url}/api/v1/runs/${runId}/logs/stream`);
    const err = await SseClient.connect(`${b.url}/api/v1/runs/${runId}/logs/stream?stream=stderr`);
    await Promise.all([out.ended, err.ended]);
    assert.equal(contiguous(out), 'step 1\nstep 2\nstep 3\n');
    assert.equal(contiguous(err), 'oops\n');
    const exit = exitOf(out);
    assert.equal(exit?.state, 'failed');
    assert.equal(exit?.exitCode, 3);
    assert.deepEqual(exitOf(err), exit);
  } finally {
    await engine.stop();
    await b.close();
  }
});

test('followers and store listeners are released when clients disconnect', async () => {
  const b = await listeningBoard({ config: manual });
  try {
    const run = await queuedRun(b);
    run.append('some output\n'.repeat(20));
    const baseline = b.app.store.changes.listenerCount('events');
    const clients = await Promise.all([
      SseClient.connect(`${b.url}/api/v1/runs/${run.id}/logs/stream`),
      SseClient.connect(`${b.url}/api/v1/runs/${run.id}/logs/stream`),
      SseClient.connect(`${b.url}/api/v1/runs/${run.id}/logs/stream?stream=stderr`),
      SseClient.connect(`${b.url}/api/v1/events/stream`),
    ]);
    await clients[0]?.until('the output', () => logs(clients[0] as SseClient).length > 0);
    // One follower per (run, stream) and one feed: three listeners, however many clients.
    assert.equal(b.app.store.changes.listenerCount('events'), baseline + 3);
    for (const c of clients) c.close();
    const deadline = Date.now() + 5000;
    while (b.app.store.changes.listenerCount('events') > baseline && Date.now() < deadline) {
      await sleep(10);
    }
    assert.equal(b.app.store.changes.listenerCount('events'), baseline);
  } finally {
    await b.close();
  }
});
