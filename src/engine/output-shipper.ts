import fs from 'node:fs';
import path from 'node:path';
import type { Timer } from '../domain/clock.js';
import { insertOutputChunks, type OutputChunk, type OutputStream } from '../store/run-output.js';
import type { EngineContext } from './context.js';
import type { LiveRun } from './live-run.js';

const SHIP_EVERY_MS = 250;
/** Row size: small enough for one INSERT, large enough that a chatty agent costs few rows. */
const CHUNK_BYTES = 256 << 10;
/** Per pass and stream: a burst is shipped over several passes, memory stays bounded. */
const MAX_PASS_BYTES = 4 << 20;
const STREAMS: OutputStream[] = ['stdout', 'stderr'];

/**
 * Ships a live run's stdout and stderr to the database in batches (every
 * 250 ms, whatever has been appended since), so the API host can read and
 * follow a log written on another host. The files stay the source: shipping
 * is by byte offset, resumes from what is stored, and is fenced by the lease.
 */
export class OutputShipper {
  private readonly shipped: Record<OutputStream, number>;
  private timer: Timer | null = null;
  private passing: Promise<void> = Promise.resolve();
  private fenced = false;

  constructor(
    private readonly ctx: EngineContext,
    private readonly runId: string,
    private readonly runDir: string,
    private readonly token: () => number,
    from: Record<OutputStream, number>,
  ) {
    this.shipped = { ...from };
  }

  start(): void {
    this.timer = this.ctx.app.clock.setInterval(() => {
      this.passing = this.passing
        .then(() => this.pass())
        .then(
          () => {},
          () => {},
        );
      return this.passing;
    }, SHIP_EVERY_MS);
    this.timer.unref();
  }

  /** Ships everything written so far (the agent has exited). Throws if the database is unreachable. */
  async finish(): Promise<void> {
    this.stop();
    await this.passing.catch(() => {});
    for (let i = 0; i < 1000 && (await this.pass()); i++);
  }

  stop(): void {
    this.ctx.app.clock.clearInterval(this.timer);
    this.timer = null;
  }

  /** One batch; true when a stream had more than one pass could take. */
  private async pass(): Promise<boolean> {
    if (this.fenced) return false;
    const chunks: OutputChunk[] = [];
    let more = false;
    for (const stream of STREAMS) {
      const got = readFrom(path.join(this.runDir, `${stream}.log`), this.shipped[stream]);
      if (got.more) more = true;
      let at = this.shipped[stream];
      for (let i = 0; i < got.data.length; i += CHUNK_BYTES) {
        const data = got.data.subarray(i, i + CHUNK_BYTES);
        chunks.push({ stream, offset: at, data });
        at += data.length;
      }
    }
    if (chunks.length === 0) return false;
    const ok = await this.ctx.app.store.tx((tx) =>
      insertOutputChunks(tx, this.runId, this.token(), chunks),
    );
    if (!ok) {
      // The lease is gone: the new holder ships from what is stored.
      this.fenced = true;
      this.stop();
      return false;
    }
    for (const c of chunks) this.shipped[c.stream] = c.offset + c.data.length;
    return more;
  }
}

function readFrom(file: string, offset: number): { data: Buffer; more: boolean } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return { data: Buffer.alloc(0), more: false };
  }
  try {
    const size = fs.fstatSync(fd).size;
    const n = Math.min(MAX_PASS_BYTES, Math.max(0, size - offset));
    const buf = Buffer.allocUnsafe(n);
    const read = n > 0 ? fs.readSync(fd, buf, 0, n, offset) : 0;
    return { data: buf.subarray(0, read), more: size - offset > n };
  } finally {
    fs.closeSync(fd);
  }
}

/** Starts shipping a live run's logs from the given offsets (what is already stored). */
export function attachShipper(
  ctx: EngineContext,
  live: LiveRun,
  from: Record<OutputStream, number> = { stdout: 0, stderr: 0 },
): void {
  if (!ctx.shipOutput) return;
  const shipper = new OutputShipper(ctx, live.id, live.init.runDir, () => live.token, from);
  live.shipper = shipper;
  shipper.start();
}
