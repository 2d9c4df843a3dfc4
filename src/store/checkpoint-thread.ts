/**
 * The worker thread of checkpointer.ts: its own connection to the board's
 * SQLite file, checkpointing the WAL (PASSIVE: it never waits for a reader
 * or a writer) every few hundred milliseconds, off the event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import SqliteDatabase from 'better-sqlite3';

const { file, everyMs } = workerData as { file: string; everyMs: number };
const db = new SqliteDatabase(file, { timeout: 0 });
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // busy or gone: the next tick tries again
  }
}, everyMs);

parentPort?.on('message', (m: unknown) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    db.close();
  } catch {
    // closing anyway
  }
  parentPort?.close();
});
