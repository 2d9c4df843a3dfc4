import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { RunDirPool, SPARES_DIR } from '../../src/runner/run-dir-pool.js';
import { tempDir, waitFor } from './helpers.js';

const FILES = ['exit.json', 'prompt.md', 'shim.pid', 'stderr.log', 'stdout.log'];

function spares(runs: string): string[] {
  try {
    return readdirSync(join(runs, SPARES_DIR));
  } catch {
    return [];
  }
}

test('spares are made when idle, complete, and taken by rename', async () => {
  const runs = join(tempDir(), 'runs');
  const pool = new RunDirPool(runs, 3);
  assert.equal(pool.take(join(runs, 'r1')), false, 'nothing to take yet');
  pool.refill();
  await waitFor('three complete spares', () => {
    const names = spares(runs);
    return (
      names.length === 3 &&
      names.every((n) => readdirSync(join(runs, SPARES_DIR, n)).length === FILES.length)
    );
  });
  const before = new Set(spares(runs).map((n) => statSync(join(runs, SPARES_DIR, n)).ino));
  assert.equal(pool.take(join(runs, 'r1')), true);
  assert.ok(before.has(statSync(join(runs, 'r1')).ino), 'the run dir is one of the spares');
  assert.deepEqual(readdirSync(join(runs, 'r1')).sort(), FILES);
  assert.ok(
    FILES.every((f) => statSync(join(runs, 'r1', f)).size === 0),
    'all empty',
  );
  assert.equal(spares(runs).length, 2);

  // A run dir that already has content is left alone, and the spare kept.
  mkdirSync(join(runs, 'r2', 'work'), { recursive: true });
  writeFileSync(join(runs, 'r2', 'work', 'file'), 'x');
  assert.equal(pool.take(join(runs, 'r2')), false);
  assert.equal(spares(runs).length, 2);
  assert.deepEqual(readdirSync(join(runs, 'r2')), ['work']);
});

test('leftover spares are shared: whoever renames one first owns it', async () => {
  const runs = join(tempDir(), 'runs');
  const maker = new RunDirPool(runs, 2);
  maker.refill();
  await waitFor('two spares', () => spares(runs).length === 2 && !hasHalfMade(runs));
  // Two later processes both find the same two leftovers.
  const a = new RunDirPool(runs, 0);
  const b = new RunDirPool(runs, 0);
  assert.equal(a.take(join(runs, 'a1')), true);
  assert.equal(b.take(join(runs, 'b1')), true, 'b skips the one a took');
  assert.equal(a.take(join(runs, 'a2')), false, 'none left for a');
  assert.equal(b.take(join(runs, 'b2')), false);
  assert.deepEqual(spares(runs), []);
});

function hasHalfMade(runs: string): boolean {
  return spares(runs).some((n) => readdirSync(join(runs, SPARES_DIR, n)).length < FILES.length);
}
