import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { revealRow, rowAt, rowOffsets, visibleRange } from '../../web/src/lib/virtual.js';

describe('virtual list maths', () => {
  it('sums fixed heights', () => {
    assert.deepEqual([...rowOffsets(3, 20)], [0, 20, 40, 60]);
    assert.deepEqual([...rowOffsets(0, 20)], [0]);
  });

  it('uses a measured height, else the estimate, else the row height', () => {
    const measured = new Map([[1, 100]]);
    assert.deepEqual([...rowOffsets(3, 20, measured, (i) => 30 + i)], [0, 30, 130, 162]);
    assert.deepEqual([...rowOffsets(2, 20, measured)], [0, 20, 120]);
  });

  it('finds the row under a pixel, clamped at both ends', () => {
    const o = rowOffsets(4, 10);
    assert.equal(rowAt(o, 0), 0);
    assert.equal(rowAt(o, 9.99), 0);
    assert.equal(rowAt(o, 10), 1);
    assert.equal(rowAt(o, 39), 3);
    assert.equal(rowAt(o, 1e9), 3);
    assert.equal(rowAt(o, -50), 0);
    assert.equal(rowAt(rowOffsets(0, 10), 5), 0);
  });

  it('matches a linear scan for any heights (binary search holds)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: -100, max: 120_000 }),
        (heights, y) => {
          const o = rowOffsets(heights.length, 1, new Map(heights.map((h, i) => [i, h])));
          let expect = 0;
          for (let i = 0; i < heights.length; i++) if ((o[i] ?? 0) <= y) expect = i;
          assert.equal(rowAt(o, y), expect);
        },
      ),
    );
  });

  it('draws the rows in view plus overscan, none for an empty list', () => {
    const o = rowOffsets(100, 10);
    assert.deepEqual(visibleRange(o, 0, 50, 2), { first: 0, last: 7 });
    assert.deepEqual(visibleRange(o, 500, 50, 2), { first: 48, last: 57 });
    assert.deepEqual(visibleRange(o, 990, 50, 6), { first: 93, last: 99 });
    assert.deepEqual(visibleRange(rowOffsets(0, 10), 0, 50, 6), { first: 0, last: -1 });
  });

  it('scrolls as little as it can to show a row whole', () => {
    const o = rowOffsets(100, 10);
    assert.equal(revealRow(o, 5, 100, 50), 50); // above: align its top
    assert.equal(revealRow(o, 20, 100, 50), 160); // below: align its bottom
    assert.equal(revealRow(o, 12, 100, 50), 100); // in view: stay
    assert.equal(revealRow(o, 14, 100, 50), 100); // its bottom is the view's bottom: stay
  });
});
