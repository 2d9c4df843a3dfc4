/** The manual clock the engine tests drive time with: it must fire exactly what is due, in order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../support/manual-clock.js';

test('advance fires due timers in order, each at its own instant, including timers they arm', () => {
  const clock = new ManualClock(1000);
  const seen: string[] = [];
  const at = (name: string) => () => seen.push(`${name}@${clock.now()}`);
  clock.setTimeout(at('b'), 20);
  clock.setTimeout(at('a'), 10);
  clock.setTimeout(at('a2'), 10);
  clock.setTimeout(() => {
    at('c')();
    clock.setTimeout(at('from-c'), 5);
  }, 30);
  clock.setTimeout(at('late'), 100);
  clock.advance(35);
  assert.deepEqual(seen, ['a@1010', 'a2@1010', 'b@1020', 'c@1030', 'from-c@1035']);
  assert.equal(clock.now(), 1035);
  assert.equal(clock.pending, 1, 'the late timer is still armed');
  clock.advance(64);
  assert.equal(seen.length, 5, 'not a millisecond early');
  clock.advance(1);
  assert.equal(seen.at(-1), 'late@1100');
});

test('intervals repeat until cleared; a cleared timer never fires', () => {
  const clock = new ManualClock(0);
  let ticks = 0;
  const every = clock.setInterval(() => ticks++, 100);
  const never = clock.setTimeout(() => assert.fail('cleared'), 50);
  clock.clearTimeout(never);
  clock.advance(350);
  assert.equal(ticks, 3);
  clock.clearInterval(every);
  clock.advance(1000);
  assert.equal(ticks, 3);
  assert.equal(clock.pending, 0);
});

test('advanceAsync awaits what each timer returns before firing the next', async () => {
  const clock = new ManualClock(0);
  const log: string[] = [];
  clock.setTimeout(async () => {
    await new Promise((r) => setImmediate(r));
    log.push('slow pass done');
  }, 10);
  clock.setTimeout(() => log.push('next timer'), 10);
  await clock.advanceAsync(10);
  assert.deepEqual(log, ['slow pass done', 'next timer']);
});

test('sleep resolves when time reaches it, and rejects at once when aborted', async () => {
  const clock = new ManualClock(0);
  let woke = false;
  const slept = clock.sleep(500).then(() => {
    woke = true;
  });
  await clock.advanceAsync(499);
  assert.equal(woke, false);
  await clock.advanceAsync(1);
  await slept;
  assert.equal(woke, true);

  const ac = new AbortController();
  const aborted = clock.sleep(1000, ac.signal);
  ac.abort(new Error('stopped'));
  await assert.rejects(aborted, /stopped/);
  assert.equal(clock.pending, 0, 'the aborted sleep left no timer behind');
});

test('a timer re-arming itself at the same instant is reported, not spun on forever', () => {
  const clock = new ManualClock(0);
  const again = () => {
    clock.setTimeout(again, 0);
  };
  clock.setTimeout(again, 0);
  assert.throws(() => clock.advance(1), /re-arming itself/);
});
