/**
 * Another process holds SQLite's write lock (BEGIN IMMEDIATE) for 10 s on a
 * running server's database. Under WAL a read never waits for a writer, and
 * a write waits for the lock without blocking the event loop: /healthz and
 * GET /api/v1/tasks keep answering at once, a write issued early is refused
 * with 503 store_busy (naming the file and the holder) once its wait runs
 * out, and a write issued late waits for the lock and succeeds.
 *
 * In the crash tier, which runs one file at a time: its latency bound needs
 * a machine not saturated by other suites.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WRITE_WAIT_MS } from '../../src/store/store.js';
import { type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

const HOLD_MS = 10_000;
const SAMPLE_EVERY_MS = 200;
const MAX_ANSWER_MS = 100;
const BASELINE_MS = 3000;
const SQLITE_MODULE = createRequire(import.meta.url).resolve('better-sqlite3');

/** Opens the board's file like any other program would, takes the write lock, holds it, commits. */
const HOLDER = `
const Database = (await import(process.argv[1])).default;
const db = new Database(process.argv[2]);
db.exec('BEGIN IMMEDIATE');
process.stdout.write('locked\\n');
await new Promise((r) => setTimeout(r, Number(process.argv[3])));
db.exec('COMMIT');
process.stdout.write('released\\n');
db.close();
`;

interface Sample {
  at: number;
  what: string;
  ms: number;
  status: number;
}

let server: ServeProcess | null = null;
let holder: ChildProcess | null = null;
after(async () => {
  holder?.kill('SIGKILL');
  await server?.kill('SIGKILL');
});

test('an outside write lock delays neither /healthz nor reads; writes wait or get 503 store_busy', async () => {
  const home = path.join(tempDir('agentboard-lock-'), 'home');
  fs.mkdirSync(home);
  fs.writeFileSync(
    path.join(home, 'config.yaml'),
    JSON.stringify({
      agents: { bot: { kind: 'command', command: 'true' } },
      board: { autostart: false },
    }),
  );
  server = await startServe(home);
  const base = server.url;
  assert.ok(base, server.output());
  // The owner's token, as the CLI reads it from the home.
  const auth = server.authHeaders();
  const add = (title: string) =>
    fetch(`${base}/api/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ title }),
    });
  assert.equal((await add('before the lock')).status, 201);

  const probe = async (samples: Sample[], at: number, what: string, url: string) => {
    const t0 = performance.now();
    const res = await fetch(url, { headers: auth });
    await res.arrayBuffer();
    samples.push({ at, what, ms: performance.now() - t0, status: res.status });
  };
  const sampleUntil = async (done: () => boolean, since: () => number): Promise<Sample[]> => {
    const samples: Sample[] = [];
    while (!done()) {
      await probe(samples, since(), '/healthz', `${base}/healthz`);
      await probe(samples, since(), 'GET /api/v1/tasks', `${base}/api/v1/tasks`);
      await sleep(SAMPLE_EVERY_MS);
    }
    return samples;
  };
  // The machine's own pace, without the lock: a loaded machine is slow whatever the lock does.
  const quietFrom = performance.now();
  const baseline = await sampleUntil(
    () => performance.now() - quietFrom > BASELINE_MS,
    () => 0,
  );
  const limit = Math.max(MAX_ANSWER_MS, 2 * Math.max(...baseline.map((b) => b.ms)));

  const out: string[] = [];
  const child = spawn(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      HOLDER,
      SQLITE_MODULE,
      path.join(home, 'agentboard.db'),
      String(HOLD_MS),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  holder = child;
  child.stdout?.setEncoding('utf8').on('data', (d: string) => out.push(d));
  const exited = new Promise((r) => child.once('exit', r));
  const deadline = Date.now() + 30_000;
  while (!out.join('').includes('locked')) {
    assert.ok(Date.now() < deadline, 'the outside process never took the lock');
    await sleep(10);
  }
  const lockedAt = performance.now();
  const since = () => Math.round(performance.now() - lockedAt);

  // Refused: its wait (WRITE_WAIT_MS) runs out while the lock is still held.
  const early = (async () => {
    const res = await add('early write');
    return { at: since(), status: res.status, body: await res.text() };
  })();
  // Succeeds: the lock is let go within its wait.
  const lateStart = HOLD_MS - WRITE_WAIT_MS / 2;
  const late = (async () => {
    await sleep(lateStart);
    const sentAt = since();
    const res = await add('late write');
    return { sentAt, at: since(), status: res.status, body: await res.text() };
  })();

  const samples = await sampleUntil(() => out.join('').includes('released'), since);
  await exited;
  holder = null;
  const e = await early;
  const l = await late;

  const during = samples.filter((s) => s.at < HOLD_MS - 50);
  const worst = (what: string) =>
    Math.max(...during.filter((s) => s.what === what).map((s) => s.ms));
  const p50 = (what: string) => {
    const ms = during
      .filter((s) => s.what === what)
      .map((s) => s.ms)
      .sort((a, b) => a - b);
    return ms[Math.floor(ms.length / 2)] ?? NaN;
  };
  console.log(
    `without the lock: max ${Math.max(...baseline.map((b) => b.ms)).toFixed(1)} ms over ${baseline.length} samples; ` +
      `lock held ${HOLD_MS} ms; ${during.length} samples while held; ` +
      `/healthz p50 ${p50('/healthz').toFixed(1)} ms max ${worst('/healthz').toFixed(1)} ms; ` +
      `GET /api/v1/tasks p50 ${p50('GET /api/v1/tasks').toFixed(1)} ms max ${worst('GET /api/v1/tasks').toFixed(1)} ms; ` +
      `early write ${e.status} after ${e.at} ms; late write sent at ${l.sentAt} ms: ${l.status} at ${l.at} ms`,
  );

  assert.ok(during.length >= 20, `too few samples while the lock was held: ${during.length}`);
  for (const s of during) assert.equal(s.status, 200, `${s.what} at ${s.at} ms`);
  for (const what of ['/healthz', 'GET /api/v1/tasks']) {
    assert.ok(
      worst(what) < limit,
      `${what} took ${worst(what).toFixed(1)} ms while the lock was held (limit ${limit.toFixed(0)} ms: ${MAX_ANSWER_MS} ms, or twice the slowest answer without the lock)`,
    );
  }

  assert.equal(e.status, 503, e.body);
  const err = JSON.parse(e.body).error;
  assert.equal(err.code, 'store_busy');
  assert.ok(err.message.includes(path.join(home, 'agentboard.db')), err.message);
  assert.match(err.message, new RegExp(`pid ${child.pid}\\b`));
  assert.ok(e.at >= WRITE_WAIT_MS - 100 && e.at < HOLD_MS, `refused after ${e.at} ms`);

  assert.equal(l.status, 201, l.body);
  assert.ok(l.at >= HOLD_MS - 200, `the late write succeeded at ${l.at} ms, under the lock?`);

  const titles = (
    (await (await fetch(`${base}/api/v1/tasks`, { headers: auth })).json()) as {
      items: { title: string }[];
    }
  ).items.map((t) => t.title);
  assert.ok(titles.includes('late write'), titles.join(', '));
  assert.ok(!titles.includes('early write'), 'a refused write must not be recorded');
});
