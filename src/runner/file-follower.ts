/**
 * Follows a growing, append-only file (an agent's log) from a byte offset,
 * like `tail -c +N -f`, with memory bounded by one chunk whatever the file size.
 */
import { type FSWatcher, watch } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

export interface FollowOptions {
  /** Byte offset to start from. */
  offset: number;
  /**
   * Receives consecutive slices of the file: no gaps, no overlaps. The buffer
   * is the callee's to keep. If it returns a promise, reading waits for it
   * (backpressure).
   */
  onChunk: (chunk: Buffer, offsetAfter: number) => void | Promise<void>;
  /** The writer has finished: read to EOF once more, then stop. */
  done: () => boolean;
  /** Stop promptly; the promise then resolves with the offset reached. */
  signal?: AbortSignal;
  chunkSize?: number;
  /** Fallback wake-up, since inotify can miss events (or be unavailable). */
  pollMs?: number;
  /**
   * Receives a function that wakes the follower at once: call it when done()
   * turns true, so the final drain does not wait for the next poll.
   */
  onWaker?: (wake: () => void) => void;
}

/** Resolves with the final offset: where a later follow should resume. */
export async function followFile(path: string, opts: FollowOptions): Promise<number> {
  const chunkSize = opts.chunkSize ?? 64 * 1024;
  const { signal } = opts;
  let offset = opts.offset;
  let fh: FileHandle | null = null;
  const waker = new Waker(path, opts.pollMs ?? 200, signal);
  opts.onWaker?.(() => waker.fire());
  try {
    while (!signal?.aborted) {
      // Asked BEFORE draining: bytes written before done() turned true are then
      // certain to be read by this pass.
      const finished = opts.done();
      fh ??= await openIfExists(path);
      if (fh !== null) {
        let scratch = Buffer.allocUnsafe(chunkSize);
        while (!signal?.aborted) {
          const { bytesRead } = await fh.read(scratch, 0, chunkSize, offset);
          if (bytesRead === 0) break;
          offset += bytesRead;
          // A full buffer is handed over as is; a short read is copied so a
          // kept chunk does not pin a whole chunkSize allocation.
          let chunk: Buffer;
          if (bytesRead === chunkSize) {
            chunk = scratch;
            scratch = Buffer.allocUnsafe(chunkSize);
          } else {
            chunk = Buffer.from(scratch.subarray(0, bytesRead));
          }
          await opts.onChunk(chunk, offset);
        }
      }
      if (finished) break;
      await waker.wait();
    }
    return offset;
  } finally {
    waker.close();
    await fh?.close();
  }
}

async function openIfExists(path: string): Promise<FileHandle | null> {
  try {
    return await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/**
 * Resolves wait() on the next change to the file, on a timer, or on abort.
 * Watches the parent directory, not the file: that works before the file
 * exists and survives its creation. A change seen while nobody waits is
 * remembered, so the next wait() returns at once and nothing is missed.
 */
class Waker {
  private watcher: FSWatcher | null = null;
  private dirty = false;
  private watchTried = false;
  private wake: (() => void) | null = null;
  private readonly onAbort = (): void => this.fire();

  constructor(
    private readonly path: string,
    private readonly pollMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {
    signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  private ensureWatcher(): void {
    if (this.watcher !== null) return;
    const name = basename(this.path);
    try {
      const w = watch(dirname(this.path), (_event, filename) => {
        if (filename === null || filename === name) this.fire();
      });
      w.on('error', () => {
        w.close();
        if (this.watcher === w) this.watcher = null; // the timer carries on alone
      });
      this.watcher = w;
    } catch {
      // directory missing or no inotify: the timer still wakes us
    }
  }

  fire(): void {
    if (this.wake !== null) this.wake();
    else this.dirty = true;
  }

  wait(): Promise<void> {
    if (this.dirty || this.signal?.aborted) {
      this.dirty = false;
      return Promise.resolve();
    }
    // Created on the first wait, not up front: a follow that ends in one pass
    // (a short run's log) never pays for inotify. A change made between the
    // last read and the watch's creation would go unseen, so the first wait
    // returns at once and the caller reads once more under the watch.
    if (this.watcher === null) {
      const first = !this.watchTried;
      this.watchTried = true;
      this.ensureWatcher();
      if (first) return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.fire(), this.pollMs);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
    });
  }

  close(): void {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.watcher?.close();
    this.watcher = null;
  }
}
