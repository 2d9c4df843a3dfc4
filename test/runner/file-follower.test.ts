import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { followFile } from '../../src/runner/file-follower.js';
import { exited, pattern, tempDir } from './helpers.js';

/** Collects chunks and checks each offsetAfter against the running total. */
function collector(start: number, chunkSize: number) {
  const chunks: Buffer[] = [];
  let expected = start;
  return {
    chunks,
    onChunk(buf: Buffer, offsetAfter: number) {
      assert.ok(buf.length > 0 && buf.length <= chunkSize, `chunk of ${buf.length}`);
      expected += buf.length;
      assert.equal(offsetAfter, expected, 'offsetAfter is contiguous');
      chunks.push(buf);
    },
    bytes: () => Buffer.concat(chunks),
  };
}

test('follows a file written in bursts by another process, from before it exists to done()', async () => {
  const dir = tempDir();
  const file = join(dir, 'stdout.log');
  const chunkSize = 64 * 1024;
  // Bursts of awkward sizes (1 byte .. 300 KB, across chunk boundaries) with pauses between.
  const writer = `${pattern.toString()}
    const fs = require('node:fs');
    const data = pattern(2_500_000, 7);
    const sizes = [1, 17, 65536, 65537, 300000, 3, 100000, 250000];
    let off = 0, i = 0;
    const fd = fs.openSync(process.argv[1], 'a');
    (function burst() {
      if (off >= data.length) return;
      const n = Math.min(sizes[i++ % sizes.length], data.length - off);
      fs.writeSync(fd, data.subarray(off, off + n));
      off += n;
      setTimeout(burst, i % 3 === 0 ? 15 : 0);
    })();`;
  const c = collector(0, chunkSize);
  let writerDone = false;
  const following = followFile(file, { offset: 0, onChunk: c.onChunk, done: () => writerDone });
  await sleep(30); // the follower is waiting on a file that does not exist yet
  const child = spawn(process.execPath, ['-e', writer, file], { stdio: 'inherit' });
  assert.equal((await exited(child)).code, 0);
  writerDone = true;
  const end = await following;
  const want = pattern(2_500_000, 7);
  assert.equal(end, want.length);
  assert.ok(c.bytes().equals(want), 'exactly the file bytes, no gap, no duplicate');
  assert.ok(readFileSync(file).equals(want));
  assert.ok(c.chunks.length >= 2_500_000 / chunkSize, 'read in bounded chunks');
});

test('starts at an offset, and delivers what was written just before done() turned true', async () => {
  const dir = tempDir();
  const file = join(dir, 'f');
  writeFileSync(file, 'HEADER--already-seen|');
  const start = 'HEADER--already-seen|'.length;
  const c = collector(start, 10);
  let writerFinishing = false;
  let finished = false;
  const following = followFile(file, {
    offset: start,
    chunkSize: 10,
    onChunk: c.onChunk,
    // The worst interleaving, made deterministic: the writer's last bytes land
    // in the very instant done() turns true. They must still be delivered.
    done: () => {
      if (writerFinishing && !finished) {
        appendFileSync(file, 'the very last bytes');
        finished = true;
      }
      return finished;
    },
  });
  let want = '';
  for (let i = 0; i < 50; i++) {
    const line = `line ${i}\n`.repeat((i % 4) + 1);
    appendFileSync(file, line);
    want += line;
    if (i % 10 === 0) await sleep(5);
  }
  want += 'the very last bytes';
  writerFinishing = true;
  assert.equal(await following, start + want.length);
  assert.equal(c.bytes().toString(), want);
});

test('wakes on file changes without waiting for the fallback timer', async () => {
  const dir = tempDir();
  const file = join(dir, 'f');
  writeFileSync(file, '');
  const ac = new AbortController();
  let gotAt = 0;
  const following = followFile(file, {
    offset: 0,
    pollMs: 60_000,
    onChunk: () => {
      gotAt = Date.now();
    },
    done: () => false,
    signal: ac.signal,
  });
  await sleep(50);
  const wroteAt = Date.now();
  appendFileSync(file, 'ping');
  for (let i = 0; i < 100 && gotAt === 0; i++) await sleep(10);
  ac.abort();
  assert.equal(await following, 4);
  assert.ok(gotAt > 0 && gotAt - wroteAt < 500, `woken by the watch (${gotAt - wroteAt} ms)`);
});

test('abort resolves with the offset reached; done() on a missing file ends at once', async () => {
  const dir = tempDir();
  const file = join(dir, 'f');
  writeFileSync(file, 'abc');
  const ac = new AbortController();
  let read = false;
  const following = followFile(file, {
    offset: 1,
    onChunk: () => {
      read = true;
    },
    done: () => false,
    signal: ac.signal,
  });
  // Aborted once the bytes were read, however slow the machine.
  for (let i = 0; i < 500 && !read; i++) await sleep(10);
  ac.abort();
  assert.equal(await following, 3);
  const t0 = Date.now();
  assert.equal(
    await followFile(join(dir, 'never'), { offset: 0, onChunk: () => {}, done: () => true }),
    0,
  );
  assert.ok(Date.now() - t0 < 100);
});

test('an async onChunk is awaited before the next read (backpressure)', async () => {
  const dir = tempDir();
  const file = join(dir, 'f');
  writeFileSync(file, pattern(100_000, 3));
  let inFlight = 0;
  let maxInFlight = 0;
  let total = 0;
  const end = await followFile(file, {
    offset: 0,
    chunkSize: 8192,
    done: () => true,
    onChunk: async (buf) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(1);
      total += buf.length;
      inFlight--;
    },
  });
  assert.equal(end, 100_000);
  assert.equal(total, 100_000);
  assert.equal(maxInFlight, 1);
});
