import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { App } from '../../src/app/context.js';
import { startRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import type { RunState } from '../../src/contract/vocabulary.js';
import { parseTaskId } from '../../src/domain/ids.js';
import { getRun, insertRun, type RunRow } from '../../src/store/runs.js';
import { type ApiBoard, apiBoard } from '../support/api.js';
import {
  type BoardLocation,
  FakeClock,
  postgresBoard,
  snapshot,
  sqliteBoard,
  testConfig,
} from '../support/board.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

const DAY = 86_400_000;
/** UTC midnight of the first day of a 3-day window. */
const D0 = Date.UTC(2030, 0, 10);

/**
 * A known history: bot ran 10 timed attempts of 100..1000 ms (7 succeeded,
 * 2 failed, 1 timed out) spread over three days, plus a cancelled run that
 * never started; helper one success and one lost run; one bot run ended the
 * day before the window. Plus a queue: one due run, one due later, one
 * waiting on an unfinished dependency.
 */
async function seed(app: App): Promise<void> {
  const task = async (agent: string, dependsOn: number[] = []) =>
    parseTaskId((await addTask(app, { title: `t ${agent}`, agent, dependsOn })).id);
  const due = await task('bot');
  const later = await task('bot');
  const blocker = await task('helper');
  const waiting = await task('helper', [blocker]);
  const botHistory = await task('bot');
  const helperHistory = await task('helper');

  const template = (await getRun(app.store.db, (await startRun(app, due)).id)) as RunRow;
  const insert = (patch: Partial<RunRow>) =>
    app.store.tx((tx) =>
      insertRun(tx, { ...template, id: app.newRunId(), cost_usd: 0.25, ...patch }),
    );
  const ended = (day: number, ms: number, state: RunState, extra: Partial<RunRow> = {}) =>
    insert({
      task_id: botHistory,
      state,
      started_at: D0 + day * DAY + 3_600_000 - ms,
      ended_at: D0 + day * DAY + 3_600_000,
      ...extra,
    });
  for (let i = 1; i <= 10; i++) {
    await ended((i - 1) % 3, i * 100, i <= 7 ? 'succeeded' : i <= 9 ? 'failed' : 'timed_out');
  }
  await ended(2, 0, 'cancelled', { started_at: null });
  await ended(-1, 99_999, 'succeeded');
  // Ends exactly at midnight: day 1, not day 0.
  await insert({
    task_id: helperHistory,
    agent: 'helper',
    state: 'succeeded',
    started_at: D0 + DAY - 5000,
    ended_at: D0 + DAY,
    cost_usd: 1,
    tokens_in: 100,
    tokens_out: 10,
  });
  await insert({
    task_id: helperHistory,
    agent: 'helper',
    state: 'lost',
    started_at: D0 + DAY + 1000,
    ended_at: D0 + DAY + 61_000,
    cost_usd: 1,
  });

  await insert({ task_id: later, state: 'queued', run_at: D0 + 3 * DAY });
  await insert({ task_id: waiting, agent: 'helper', state: 'queued' });
}

function statsSuite(name: string, location: () => Promise<BoardLocation>): void {
  describe(`HTTP API: stats (${name})`, () => {
    let api: ApiBoard;
    before(async () => {
      api = await apiBoard({
        board: await location(),
        config: testConfig({ board: { autostart: false } }),
        clock: new FakeClock(D0 + 2 * DAY + 12 * 3_600_000),
      });
      await seed(api.app);
    });
    after(() => api?.close());

    const get = (url: string) => api.server.inject({ method: 'GET', url });

    it('reports success, percentiles, outcomes per day, cost and the queue', async () => {
      const r = await get('/api/v1/stats?days=3');
      assert.equal(r.statusCode, 200, r.body);
      const s = r.json();
      assert.equal(s.since, new Date(D0).toISOString());
      assert.equal(s.agent, null);
      assert.deepEqual(s.queue, { queued: 3, runnable: 1 });

      assert.deepEqual(s.success.overall, {
        succeeded: 8,
        failed: 2,
        timed_out: 1,
        cancelled: 1,
        lost: 1,
        ended: 13,
        rate: 8 / 12,
      });
      assert.deepEqual(
        s.success.byAgent.map((a: { agent: string; rate: number }) => [a.agent, a.rate]),
        [
          ['bot', 0.7],
          ['helper', 0.5],
        ],
      );

      // Nearest rank over 100..1000 ms; helper's lost run has no meaningful duration.
      assert.deepEqual(s.durations, [
        { agent: 'bot', runs: 10, p50Ms: 500, p90Ms: 900, p99Ms: 1000 },
        { agent: 'helper', runs: 1, p50Ms: 5000, p90Ms: 5000, p99Ms: 5000 },
      ]);

      assert.deepEqual(s.daily, [
        { day: '2030-01-10', succeeded: 3, failed: 0, timed_out: 1, cancelled: 0, lost: 0 },
        { day: '2030-01-11', succeeded: 3, failed: 1, timed_out: 0, cancelled: 0, lost: 1 },
        { day: '2030-01-12', succeeded: 2, failed: 1, timed_out: 0, cancelled: 1, lost: 0 },
      ]);

      assert.deepEqual(
        s.cost.map((c: { day: string; agent: string; runs: number; costUsd: number }) => [
          c.day,
          c.agent,
          c.runs,
          c.costUsd,
        ]),
        [
          ['2030-01-10', 'bot', 4, 1],
          ['2030-01-11', 'bot', 3, 0.75],
          ['2030-01-11', 'helper', 2, 2],
          ['2030-01-12', 'bot', 4, 1],
        ],
      );
      assert.equal(s.cost[2].tokensIn, 100);
    });

    it('filters by agent and widens the window with days', async () => {
      const helper = (await get('/api/v1/stats?days=3&agent=helper')).json();
      assert.equal(helper.agent, 'helper');
      assert.equal(helper.success.overall.rate, 0.5);
      assert.deepEqual(
        helper.durations.map((d: { agent: string }) => d.agent),
        ['helper'],
      );
      assert.deepEqual(helper.queue, { queued: 1, runnable: 0 });
      assert.ok(helper.cost.every((c: { agent: string }) => c.agent === 'helper'));

      const wide = (await get('/api/v1/stats?days=4&agent=bot')).json();
      assert.equal(wide.daily.length, 4);
      assert.equal(wide.daily[0].day, '2030-01-09');
      assert.equal(wide.daily[0].succeeded, 1);
      assert.equal(wide.durations[0].runs, 11);
      assert.equal(wide.durations[0].p99Ms, 99_999);

      const none = (await get('/api/v1/stats?agent=nobody')).json();
      assert.equal(none.daily.length, 30);
      assert.equal(none.success.overall.rate, null);
      assert.deepEqual(none.durations, []);
    });

    it('refuses a bad query with 400 naming the field, changing nothing', async () => {
      const before = await snapshot(api.app);
      for (const [q, field] of [
        ['days=0', 'query.days'],
        ['days=367', 'query.days'],
        ['days=ten', 'query.days'],
        ['agent=', 'query.agent'],
        ['since=1', 'query.since'],
      ]) {
        const r = await get(`/api/v1/stats?${q}`);
        assert.equal(r.statusCode, 400, q);
        assert.equal(r.json().error.code, 'invalid_request');
        assert.equal(r.json().error.details.field, field, q);
      }
      assert.equal(await snapshot(api.app), before);
    });
  });
}

statsSuite('sqlite', async () => sqliteBoard());

let pg: TestPostgres | undefined;
after(() => pg?.close());
statsSuite('postgres', async () => {
  pg ??= await startPostgres();
  return postgresBoard(await pg.createDatabase());
});
