import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { UsageError } from '../../src/domain/errors.js';
import {
  CATCH_UP_POLICIES,
  type CatchUp,
  dueTicks,
  formatScheduleId,
  MAX_CATCH_UP_TICKS,
  nextTick,
  ON_TIME_GRACE_MS,
  OVERLAP_POLICIES,
  type Overlap,
  parseCatchUp,
  parseCron,
  parseOverlap,
  parseScheduleId,
  planCatchUp,
  planOverlap,
} from '../../src/domain/schedule.js';

const T0 = Date.UTC(2030, 0, 1); // a Tuesday, 00:00 UTC
const MIN = 60_000;
const HOUR = 3_600_000;
const every15 = parseCron({ cron: '*/15 * * * *', timezone: null });

describe('cron parsing', () => {
  test('a valid expression gives its next occurrences, in UTC by default', () => {
    const c = parseCron({ cron: '0 9 * * 1-5', timezone: null });
    assert.equal(nextTick(c, T0), Date.UTC(2030, 0, 1, 9));
    // Friday 09:00 is followed by Monday 09:00.
    assert.equal(nextTick(c, Date.UTC(2030, 0, 4, 9)), Date.UTC(2030, 0, 7, 9));
  });

  test('a time zone shifts the ticks (Paris is UTC+1 in January, UTC+2 in July)', () => {
    const c = parseCron({ cron: '0 9 * * *', timezone: 'Europe/Paris' });
    assert.equal(nextTick(c, T0), Date.UTC(2030, 0, 1, 8));
    assert.equal(nextTick(c, Date.UTC(2030, 6, 1)), Date.UTC(2030, 6, 1, 7));
  });

  test('the next tick is strictly after the reference', () => {
    assert.equal(nextTick(every15, T0), T0 + 15 * MIN);
    assert.equal(nextTick(every15, T0 - 1), T0);
  });

  for (const [cron, why] of [
    ['61 * * * *', /\(invalid value for minute: 61\)/],
    ['0 9 * *', /\(it has 4 fields, not five\)/],
    ['every day', /\(it has 2 fields, not five\)/],
    ['0 0 9 * * *', /\(it has 6 fields, not five\)/], // seconds are refused
    ['', /\(it has 0 fields, not five\)/],
  ] as const) {
    test(`"${cron}" is refused with a message naming it`, () => {
      assert.throws(
        () => parseCron({ cron, timezone: null }),
        (e: unknown) => {
          assert.ok(e instanceof UsageError);
          assert.ok(e.message.includes(`"${cron}"`), e.message);
          assert.match(e.message, why);
          assert.match(e.message, /use five fields "minute hour day-of-month month day-of-week"/);
          assert.equal(e.exitCode, 2);
          return true;
        },
      );
    });
  }

  test('an expression that never fires is refused', () => {
    assert.throws(() => parseCron({ cron: '0 0 30 2 *', timezone: null }), /never fires/);
  });

  test('an unknown time zone is refused, naming it', () => {
    assert.throws(
      () => parseCron({ cron: '0 9 * * *', timezone: 'Mars/Olympus' }),
      /"Mars\/Olympus" is not a time zone/,
    );
  });
});

describe('due ticks', () => {
  test('ticks in (after, now], oldest first', () => {
    assert.deepEqual(dueTicks(every15, T0, T0 + 45 * MIN), [
      T0 + 15 * MIN,
      T0 + 30 * MIN,
      T0 + 45 * MIN,
    ]);
    assert.deepEqual(dueTicks(every15, T0, T0 + 14 * MIN), []);
  });

  test('keeps only the newest `max`', () => {
    assert.deepEqual(dueTicks(every15, T0, T0 + HOUR, 2), [T0 + 45 * MIN, T0 + HOUR]);
  });
});

describe('catch-up', () => {
  // A 3-hour-7-minute downtime after the 00:30 tick: 12 ticks missed (00:45 … 03:30),
  // the newest 7 minutes late, so not on time.
  const cursor = T0 + 30 * MIN;
  const back = T0 + 3 * HOUR + 37 * MIN;
  const missed = Array.from({ length: 12 }, (_, i) => T0 + (45 + 15 * i) * MIN);
  const cases: [CatchUp, number, number[]][] = [
    ['skip', 6 * HOUR, []],
    ['latest', 6 * HOUR, [T0 + 3 * HOUR + 30 * MIN]],
    ['latest', 5 * MIN, []],
    ['all', 6 * HOUR, missed],
    ['all', HOUR, missed.filter((t) => t >= back - HOUR)],
    ['all', 0, []],
  ];
  for (const [catchUp, windowMs, fire] of cases) {
    test(`${catchUp}, window ${windowMs / MIN} min: fires ${fire.length}`, () => {
      const plan = planCatchUp(every15, cursor, back, { catchUp, windowMs });
      assert.deepEqual(plan.fire, fire);
      // Every missed tick is dealt with; the next one (03:45) is not.
      assert.ok(plan.cursor >= T0 + 3 * HOUR + 30 * MIN && plan.cursor < T0 + 3 * HOUR + 45 * MIN);
      assert.deepEqual(dueTicks(every15, plan.cursor, back), []);
    });
  }

  test('the window of 1 hour keeps exactly 02:45, 03:00, 03:15, 03:30', () => {
    const plan = planCatchUp(every15, cursor, back, { catchUp: 'all', windowMs: HOUR });
    assert.equal(plan.fire.length, 4);
    assert.equal(plan.fire[0], T0 + 2 * HOUR + 45 * MIN);
  });

  for (const catchUp of CATCH_UP_POLICIES) {
    test(`${catchUp}: a tick on time fires, whatever the policy`, () => {
      const plan = planCatchUp(every15, T0, T0 + 15 * MIN + 5000, { catchUp, windowMs: 0 });
      assert.deepEqual(plan.fire, [T0 + 15 * MIN]);
      assert.equal(plan.cursor, T0 + 15 * MIN);
    });

    test(`${catchUp}: a tick exactly ${ON_TIME_GRACE_MS / 1000}s late is on time; 1 ms more is missed`, () => {
      const tick = T0 + 15 * MIN;
      const onTime = planCatchUp(every15, T0, tick + ON_TIME_GRACE_MS, { catchUp, windowMs: 0 });
      assert.deepEqual(onTime.fire, [tick]);
      const late = planCatchUp(every15, T0, tick + ON_TIME_GRACE_MS + 1, {
        catchUp,
        windowMs: 0,
      });
      assert.deepEqual(late.fire, []);
      assert.equal(late.cursor, tick, 'the missed tick is still dealt with');
    });

    test(`${catchUp}: nothing due leaves the cursor where the ticks are not yet due`, () => {
      const plan = planCatchUp(every15, T0, T0 + 10 * MIN, { catchUp, windowMs: HOUR });
      assert.deepEqual(plan.fire, []);
      assert.ok(plan.cursor >= T0 && plan.cursor < T0 + 15 * MIN);
    });
  }

  test('on time plus missed: latest fires only the on-time tick, all fires every one', () => {
    // Down from 00:00 to 00:45:30: 00:15 and 00:30 missed, 00:45 on time.
    const now = T0 + 45 * MIN + 30_000;
    const rule = { windowMs: HOUR };
    assert.deepEqual(planCatchUp(every15, T0, now, { ...rule, catchUp: 'skip' }).fire, [
      T0 + 45 * MIN,
    ]);
    assert.deepEqual(planCatchUp(every15, T0, now, { ...rule, catchUp: 'latest' }).fire, [
      T0 + 45 * MIN,
    ]);
    assert.deepEqual(planCatchUp(every15, T0, now, { ...rule, catchUp: 'all' }).fire, [
      T0 + 15 * MIN,
      T0 + 30 * MIN,
      T0 + 45 * MIN,
    ]);
  });

  test('a months-long downtime is not enumerated beyond the window, and all is capped', () => {
    const everyMinute = parseCron({ cron: '* * * * *', timezone: null });
    const now = T0 + 90 * 24 * HOUR + 30 * 1000;
    const skip = planCatchUp(everyMinute, T0, now, { catchUp: 'skip', windowMs: 0 });
    assert.deepEqual(skip.fire, [T0 + 90 * 24 * HOUR]);
    const all = planCatchUp(everyMinute, T0, now, { catchUp: 'all', windowMs: 30 * 24 * HOUR });
    assert.equal(all.fire.length, MAX_CATCH_UP_TICKS);
    assert.equal(all.fire.at(-1), T0 + 90 * 24 * HOUR, 'the newest are kept');
  });

  test('a fired tick is never fired again: the cursor moves past it', () => {
    const first = planCatchUp(every15, T0, T0 + 15 * MIN, { catchUp: 'all', windowMs: HOUR });
    const again = planCatchUp(every15, first.cursor, T0 + 15 * MIN + 1000, {
      catchUp: 'all',
      windowMs: HOUR,
    });
    assert.deepEqual(again.fire, []);
  });
});

describe('overlap', () => {
  const fresh = [1, 2, 3];
  // Every policy × busy or not × with or without waiting ticks.
  const cases: [Overlap, boolean, number[], [number, string, boolean][]][] = [
    [
      'allow',
      false,
      [],
      [
        [1, 'start', false],
        [2, 'start', false],
        [3, 'start', false],
      ],
    ],
    [
      'allow',
      true,
      [],
      [
        [1, 'start', false],
        [2, 'start', false],
        [3, 'start', false],
      ],
    ],
    [
      'skip',
      false,
      [],
      [
        [1, 'start', false],
        [2, 'skip', false],
        [3, 'skip', false],
      ],
    ],
    [
      'skip',
      true,
      [],
      [
        [1, 'skip', false],
        [2, 'skip', false],
        [3, 'skip', false],
      ],
    ],
    [
      'queue',
      false,
      [],
      [
        [1, 'start', false],
        [2, 'wait', false],
        [3, 'wait', false],
      ],
    ],
    [
      'queue',
      true,
      [],
      [
        [1, 'wait', false],
        [2, 'wait', false],
        [3, 'wait', false],
      ],
    ],
    // A waiting tick goes first once nothing runs; the others keep waiting (no row change).
    [
      'queue',
      false,
      [0],
      [
        [0, 'start', true],
        [1, 'wait', false],
        [2, 'wait', false],
        [3, 'wait', false],
      ],
    ],
    [
      'queue',
      true,
      [0],
      [
        [1, 'wait', false],
        [2, 'wait', false],
        [3, 'wait', false],
      ],
    ],
  ];
  for (const [policy, busy, waiting, expected] of cases) {
    test(`${policy}, ${busy ? 'busy' : 'idle'}, ${waiting.length} waiting`, () => {
      const got = planOverlap(policy, busy, waiting, fresh).map(
        (d) => [d.tick, d.action, d.waiting] as [number, string, boolean],
      );
      assert.deepEqual(got, expected);
    });
  }

  for (const policy of OVERLAP_POLICIES) {
    test(`${policy}: nothing to do gives nothing`, () => {
      assert.deepEqual(planOverlap(policy, true, [], []), []);
      assert.deepEqual(planOverlap(policy, false, [], []), []);
    });
  }
});

describe('parsing flags and ids', () => {
  test('policies', () => {
    assert.equal(parseCatchUp(' ALL '), 'all');
    assert.equal(parseOverlap('Queue'), 'queue');
    assert.throws(
      () => parseCatchUp('some'),
      /unknown catch-up policy "some": use skip, latest, all/,
    );
    assert.throws(
      () => parseOverlap('wait'),
      /unknown overlap policy "wait": use skip, queue, allow/,
    );
  });

  test('schedule ids', () => {
    assert.equal(parseScheduleId('S-3'), 3);
    assert.equal(parseScheduleId('s3'), 3);
    assert.equal(parseScheduleId('12'), 12);
    assert.equal(formatScheduleId(12), 'S-12');
    for (const bad of ['S-0', 'T-3', '', 'S-x', '-1']) {
      assert.throws(() => parseScheduleId(bad), /is not a schedule id/);
    }
  });
});
