/**
 * The board feed on PostgreSQL, which has no data_version: commits by another
 * pool (another process, as far as the server knows) arrive through the poll,
 * and a backlog replays exactly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import { readEvents } from '../../src/store/events.js';
import { insertOutputChunks } from '../../src/store/run-output.js';
import { postgresBoard, testConfig } from '../support/board.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { listeningBoard, SseClient } from './sse-helpers.js';

let pg: TestPostgres;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg.close();
});

test('PostgreSQL: backlog from ?after, then another pool’s commits via the poll, ids exact', async () => {
  const board = postgresBoard(await pg.createDatabase());
  const b = await listeningBoard({ board, sse: { eventPollMsNoVersion: 50 } });
  const other = await board.open();
  try {
    for (let i = 0; i < 5; i++) await addTask(b.app, { title: `here ${i}` });
    const c = await SseClient.connect(`${b.url}/api/v1/events/stream?after=2`);
    for (let i = 0; i < 5; i++) await addTask(other, { title: `elsewhere ${i}` });
    const all = (await readEvents(b.app.store.db, { after: 0, limit: 1000 })).map((e) => e.id);
    await c.until('every event', () => c.messages.length >= all.length - 2);
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(
      c.messages.map((m) => Number(m.id)),
      all.filter((id) => id > 2),
    );
    c.close();
  } finally {
    await other.store.close();
    await b.close();
  }
});

test('PostgreSQL: a run executing on another host is read and followed from the chunks its worker shipped', async () => {
  const board = postgresBoard(await pg.createDatabase());
  const secret = 'remote-secret-0123456789';
  const b = await listeningBoard({
    board,
    secrets: [secret],
    config: testConfig({ board: { autostart: false } }),
  });
  try {
    const task = await addTask(b.app, { title: 'remote', agent: 'bot' });
    const run = await startRun(b.app, Number(task.id.slice(2)));
    // As a worker elsewhere leaves it: running under its lease, no file on this host.
    await board.rawQuery(
      `update runs set state = 'running', lease_token = 7 where id = '${run.id}'`,
    );
    const ship = (offset: number, text: string) =>
      b.app.store.tx((tx) =>
        insertOutputChunks(tx, run.id, 7, [{ stream: 'stdout', offset, data: Buffer.from(text) }]),
      );
    const first = `line one ${secret}\n`;
    assert.equal(await ship(0, first), true);

    const range = await fetch(`${b.url}/api/v1/runs/${run.id}/logs`);
    assert.equal(range.status, 200);
    assert.equal(range.headers.get('x-log-size'), String(Buffer.byteLength(first)));
    assert.equal(await range.text(), first.replace(secret, '*'.repeat(secret.length)));

    const c = await SseClient.connect(`${b.url}/api/v1/runs/${run.id}/logs/stream`);
    await c.until('the first chunk', () => c.messages.length >= 1);
    const second = 'line two ✓\n';
    await ship(Buffer.byteLength(first), second);
    await board.rawQuery(
      `update runs set state = 'succeeded', exit_code = 0 where id = '${run.id}'`,
    );
    await c.ended;
    const logs = c.messages.filter((m) => m.event === 'log');
    const text = logs.map((m) => JSON.parse(m.data).text).join('');
    assert.equal(text, `${first}${second}`.replace(secret, '*'.repeat(secret.length)));
    assert.equal(Number(logs.at(-1)?.id), Buffer.byteLength(first + second));
    const exit = c.messages.at(-1);
    assert.equal(exit?.event, 'exit');
    assert.deepEqual(JSON.parse(exit?.data ?? '{}').exitCode, 0);
  } finally {
    await b.close();
  }
});
