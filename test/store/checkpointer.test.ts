/**
 * A long-lived process checkpoints SQLite's WAL from a thread, so its own
 * commits never do (the dispatch tail, bench/dispatch.ts): the connection's
 * autocheckpoint is off, and the WAL still stays small however much is written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { appendEvent } from '../../src/store/events.js';
import { sqliteBoard } from '../support/board.js';

const WRITES = 3000;

async function walBytesAfterWrites(checkpointer: boolean): Promise<{ wal: number; auto: number }> {
  const loc = sqliteBoard();
  const app = await loc.open();
  try {
    if (checkpointer) app.store.startCheckpointer();
    else app.store.sqlite?.pragma('wal_autocheckpoint = 0');
    const auto = app.store.sqlite?.pragma('wal_autocheckpoint', { simple: true }) as number;
    for (let i = 0; i < WRITES; i++) {
      await app.store.tx((tx) =>
        appendEvent(tx, 'task.updated', { data: { fields: [String(i)] } }),
      );
      // A board's commits come with pauses between them; the thread checkpoints in those.
      if (i % 100 === 99) await sleep(300);
    }
    return { wal: fs.statSync(`${app.paths.database}-wal`).size, auto };
  } finally {
    await app.store.close();
  }
}

test('the WAL is checkpointed by the thread, not by commits, and stays small', async () => {
  const withThread = await walBytesAfterWrites(true);
  const without = await walBytesAfterWrites(false);
  process.stdout.write(
    `# WAL after ${WRITES} commits: ${withThread.wal} bytes with the checkpoint thread, ${without.wal} with no checkpoints at all\n`,
  );
  assert.equal(withThread.auto, 0, 'commits do not checkpoint');
  assert.ok(
    without.wal > 4 * 1024 * 1024,
    'without checkpoints the WAL grows (the test writes enough)',
  );
  assert.ok(withThread.wal < without.wal / 4, 'the thread keeps the WAL small');
});
