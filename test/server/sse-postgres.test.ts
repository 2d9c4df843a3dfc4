/**
 * The board feed on PostgreSQL, which has no data_version: commits by another
 * pool (another process, as far as the server knows) arrive through the poll,
 * and a backlog replays exactly.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { readEvents } from '../../src/store/events.js';
import { postgresBoard } from '../support/board.js';
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
