import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { parseDuration } from '../../src/domain/duration.js';
import { UsageError } from '../../src/domain/errors.js';
import { findCycle } from '../../src/domain/graph.js';
import {
  createRunIdFactory,
  formatTaskId,
  isRunId,
  isTaskId,
  parseTaskId,
} from '../../src/domain/ids.js';

describe('parseDuration', () => {
  test('units and bare numbers (seconds)', () => {
    const cases: [string | number, number][] = [
      ['500ms', 500],
      ['10s', 10_000],
      ['5m', 300_000],
      ['2h', 7_200_000],
      ['7d', 604_800_000],
      ['1.5s', 1500],
      [' 30 s ', 30_000],
      ['0', 0],
      ['45', 45_000],
      [2, 2000],
      [0.25, 250],
      [0, 0],
    ];
    for (const [input, ms] of cases) assert.equal(parseDuration(input), ms, String(input));
  });

  test('refuses anything else, showing valid examples', () => {
    for (const bad of ['', 'soon', '5 minutes', '-5s', '5M', '1e3s', '10w', 's', '.5s', '1,5s']) {
      assert.throws(
        () => parseDuration(bad),
        (e: unknown) =>
          e instanceof UsageError &&
          e.message === `"${bad}" is not a duration: use e.g. 500ms, 30s, 5m, 2h or 7d`,
        bad,
      );
    }
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      assert.throws(() => parseDuration(bad), UsageError);
    }
  });
});

describe('task ids', () => {
  test('parseTaskId accepts T-n, t-n and a bare n', () => {
    const cases: [string, number][] = [
      ['T-1', 1],
      ['t-42', 42],
      ['42', 42],
      [' T-7 ', 7],
      ['T-9007199254740991', Number.MAX_SAFE_INTEGER],
    ];
    for (const [input, n] of cases) assert.equal(parseTaskId(input), n, input);
  });

  test('parseTaskId refuses malformed ids with a usage error showing the form', () => {
    for (const bad of ['', 'T-', 'T-0', 'T-01', '0', 'T1', 'T--1', 'T-1.5', 'X-3', 'T-3x', '-3']) {
      assert.throws(
        () => parseTaskId(bad),
        (e: unknown) =>
          e instanceof UsageError &&
          e.exitCode === 2 &&
          e.message === `"${bad}" is not a task id: use the form T-42`,
        bad,
      );
    }
  });

  test('parseTaskId refuses numbers it cannot represent exactly', () => {
    // 2^53 + 1 would silently become 2^53: a different task.
    for (const bad of ['T-9007199254740993', '9999999999999999', 'T-12345678901234567']) {
      assert.throws(() => parseTaskId(bad), UsageError, bad);
    }
  });

  test('property: formatTaskId and parseTaskId round-trip', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), (n) => {
        const id = formatTaskId(n);
        assert.ok(isTaskId(id));
        assert.equal(parseTaskId(id), n);
        assert.equal(parseTaskId(id.toLowerCase()), n);
      }),
    );
  });
});

describe('run ids', () => {
  test('shape: r + 22 Crockford base32 characters', () => {
    const id = createRunIdFactory(() => Date.UTC(2030, 0, 1))();
    assert.equal(id.length, 23);
    assert.ok(isRunId(id), id);
    assert.ok(!isRunId(id.toUpperCase()));
    assert.ok(!isRunId(`${id.slice(0, -1)}u`), 'u is not Crockford');
    assert.ok(!isRunId(id.slice(0, -1)));
  });

  test('sort by creation time across milliseconds, whatever the randomness', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 10_000_000 }), { minLength: 2, maxLength: 50 }),
        fc.integer({ min: 0, max: 2 ** 40 }),
        fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 1 }),
        (steps, start, rands) => {
          let t = start;
          let i = 0;
          const next = createRunIdFactory(
            () => t,
            () => rands[i++ % rands.length] ?? 0,
          );
          let prev = next();
          for (const s of steps) {
            t += s;
            const id = next();
            assert.ok(id > prev, `${id} <= ${prev}`);
            assert.ok(isRunId(id));
            prev = id;
          }
        },
      ),
    );
  });

  test('monotonic within one millisecond, and when the clock steps back', () => {
    let t = Date.UTC(2030, 0, 1);
    const next = createRunIdFactory(() => t);
    const ids = [next()];
    for (let i = 0; i < 2000; i++) ids.push(next());
    t -= 5000; // NTP step backwards
    for (let i = 0; i < 10; i++) ids.push(next());
    for (let i = 1; i < ids.length; i++) {
      assert.ok((ids[i] as string) > (ids[i - 1] as string), `${ids[i]} after ${ids[i - 1]}`);
    }
    assert.equal(new Set(ids).size, ids.length);
  });

  test('monotonic within one millisecond even when the random part is at its maximum', () => {
    const t = Date.UTC(2030, 0, 1);
    const next = createRunIdFactory(
      () => t,
      () => 0.9999999,
    );
    const a = next();
    const b = next();
    const c = next();
    assert.ok(b > a, `${b} should sort after ${a}`);
    assert.ok(c > b, `${c} should sort after ${b}`);
    assert.ok(isRunId(b) && isRunId(c));
  });

  test('the time prefix orders ids made by different factories', () => {
    const a = createRunIdFactory(
      () => 1000,
      () => 0.99,
    )();
    const b = createRunIdFactory(
      () => 1001,
      () => 0,
    )();
    assert.ok(a < b);
  });
});

describe('findCycle', () => {
  test('examples', () => {
    assert.equal(findCycle([]), null);
    assert.equal(
      findCycle([
        [1, 2],
        [2, 3],
        [1, 3],
      ]),
      null,
    );
    assert.deepEqual(findCycle([[4, 4]]), [4, 4]);
    assert.deepEqual(
      findCycle([
        [1, 2],
        [2, 1],
      ]),
      [1, 2, 1],
    );
    assert.deepEqual(
      findCycle([
        [9, 1],
        [1, 2],
        [2, 3],
        [3, 1],
      ]),
      [1, 2, 3, 1],
    );
  });

  /** Kahn's algorithm: a graph is acyclic iff every node can be removed in topological order. */
  function acyclic(edges: [number, number][]): boolean {
    const indeg = new Map<number, number>();
    for (const [a, b] of edges) {
      indeg.set(a, indeg.get(a) ?? 0);
      indeg.set(b, (indeg.get(b) ?? 0) + 1);
    }
    const queue = [...indeg].filter(([, d]) => d === 0).map(([n]) => n);
    let removed = 0;
    while (queue.length > 0) {
      const n = queue.pop() as number;
      removed++;
      for (const [a, b] of edges) {
        if (a !== n) continue;
        const d = (indeg.get(b) ?? 0) - 1;
        indeg.set(b, d);
        if (d === 0) queue.push(b);
      }
    }
    return removed === indeg.size;
  }

  test('property: returns a real cycle exactly when the graph has one', () => {
    const edge = fc.tuple(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 8 }));
    fc.assert(
      fc.property(fc.array(edge, { maxLength: 14 }), (edges) => {
        const cycle = findCycle(edges);
        if (cycle === null) {
          assert.ok(acyclic(edges));
          return;
        }
        assert.ok(!acyclic(edges));
        assert.ok(cycle.length >= 2);
        assert.equal(cycle[0], cycle.at(-1));
        for (let i = 0; i + 1 < cycle.length; i++) {
          assert.ok(
            edges.some(([a, b]) => a === cycle[i] && b === cycle[i + 1]),
            `${cycle[i]} -> ${cycle[i + 1]} is not an edge`,
          );
        }
        // A simple cycle: no node repeats except the closing one.
        assert.equal(new Set(cycle).size, cycle.length - 1);
      }),
      { numRuns: 1000 },
    );
  });
});
