/**
 * WAL checkpoints off the event loop. SQLite checkpoints the WAL inside the
 * commit that crosses `wal_autocheckpoint` pages, so that one commit (a
 * claim, an API request) takes 20–40 ms on a slow disk: the largest cause of
 * the dispatch tail measured by bench/dispatch.ts. A long-lived process (an
 * engine, the API) turns that off on its connection and lets a worker thread
 * with a connection of its own checkpoint every 250 ms instead. Should the
 * thread die, the connection checkpoints by itself again, as before.
 */
import { Worker } from 'node:worker_threads';
import type SqliteDatabase from 'better-sqlite3';

const EVERY_MS = 250;
/** SQLite's default: what the connection goes back to without the thread. */
const AUTOCHECKPOINT_PAGES = 1000;

export class Checkpointer {
  private worker: Worker | null = null;

  constructor(
    private readonly sqlite: SqliteDatabase.Database,
    private readonly file: string,
  ) {}

  start(): void {
    if (this.worker) return;
    let w: Worker;
    try {
      w = new Worker(new URL('./checkpoint-thread.js', import.meta.url), {
        workerData: { file: this.file, everyMs: EVERY_MS },
      });
    } catch {
      return; // no thread: commits keep checkpointing themselves
    }
    w.unref();
    w.on('error', () => this.fallBack());
    w.on('exit', () => this.fallBack());
    this.sqlite.pragma('wal_autocheckpoint = 0');
    this.worker = w;
  }

  async stop(): Promise<void> {
    const w = this.worker;
    if (!w) return;
    this.worker = null;
    const exited = new Promise<void>((r) => w.once('exit', () => r()));
    w.postMessage('stop');
    const timer = setTimeout(() => void w.terminate(), 2000);
    await exited;
    clearTimeout(timer);
  }

  private fallBack(): void {
    this.worker = null;
    try {
      this.sqlite.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
    } catch {
      // the connection is closed
    }
  }
}
