/**
 * Schedules over the store, written once and run on each dialect
 * (schedules-sqlite.test.ts, schedules-postgres.test.ts), under fake time:
 * the scheduler's pass is driven directly at chosen instants. Not a test file.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { App } from '../../src/app/context.js';
import { syncHeartbeats } from '../../src/app/heartbeat.js';
import {
  addSchedule,
  listScheduleViews,
  removeSchedule,
  runDueSchedules,
  type ScheduleInput,
} from '../../src/app/schedules.js';
import { addTask, cancelTask, commentOnTask } from '../../src/app/tasks.js';
import { configSchema } from '../../src/config/schema.js';
import { ConflictError, NotFoundError, UsageError } from '../../src/domain/errors.js';
import { formatTaskId, parseTaskId } from '../../src/domain/ids.js';
import { ACTIVE_RUN_STATES } from '../../src/domain/run.js';
import { parseScheduleId } from '../../src/domain/schedule.js';
import { listRuns, type RunRow } from '../../src/store/runs.js';
import { heartbeatScheduleOf, listSchedules, ticksOf } from '../../src/store/schedules.js';
import { getTask, listTasks } from '../../src/store/tasks.js';
import { type BoardLocation, FakeClock, snapshot, testConfig } from '../support/board.js';

const T0 = Date.UTC(2030, 0, 1); // 00:00 UTC
const MIN = 60_000;
const HOUR = 3_600_000;

async function open(make: () => Promise<BoardLocation>, raw?: Record<string, unknown>) {
  const board = await make();
  const clock = new FakeClock(T0);
  const config = raw ? configSchema.parse(raw) : testConfig();
  const app = await board.open({ clock, config });
  return { board, clock, app };
}

async function scheduleRuns(app: App): Promise<RunRow[]> {
  return (await listRuns(app.store.db, { order: 'asc' })).filter((r) => r.trigger === 'schedule');
}

async function outcomes(app: App, id: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of await ticksOf(app.store.db, parseScheduleId(id))) {
    out[t.outcome] = (out[t.outcome] ?? 0) + 1;
  }
  return out;
}

/** Ends a run the way a user does when no engine is running: cancel its task. */
async function endRun(app: App, run: RunRow): Promise<void> {
  await cancelTask(app, run.task_id);
}

async function activeScheduleRuns(app: App): Promise<RunRow[]> {
  return (await scheduleRuns(app)).filter((r) =>
    (ACTIVE_RUN_STATES as readonly string[]).includes(r.state),
  );
}

/**
 * A schedule every 15 minutes, created at 00:00: the engine is up for the 00:15 and 00:30
 * ticks, down from 00:30 to 03:37 (3 h 7 min: 12 ticks missed, 00:45 … 03:30,
 * the newest 7 minutes late), then up for the 03:45 tick.
 */
async function throughDowntime(app: App, clock: FakeClock, input: Partial<ScheduleInput>) {
  clock.t = T0;
  const s = await addSchedule(app, {
    cron: '*/15 * * * *',
    agent: 'bot',
    prompt: 'Triage the inbox',
    ...input,
  });
  const pass = async (at: number) => {
    clock.t = at;
    const p = await runDueSchedules(app, at);
    assert.deepEqual(p.errors, []);
    return p;
  };
  const before = [await pass(T0 + 15 * MIN), await pass(T0 + 30 * MIN)];
  const back = await pass(T0 + 3 * HOUR + 37 * MIN);
  const again = await pass(T0 + 3 * HOUR + 37 * MIN + 5000);
  const after = await pass(T0 + 3 * HOUR + 45 * MIN);
  return { s, before, back, again, after };
}

export function scheduleContract(name: string, make: () => Promise<BoardLocation>): void {
  describe(`schedules (${name})`, () => {
    describe('catch-up across a simulated 3-hour downtime (overlap allow)', () => {
      // [policy, window, ticks fired on return, total runs after 03:45]
      const cases: [ScheduleInput['catchUp'], number, number, number][] = [
        ['skip', 6 * HOUR, 0, 3],
        ['latest', 6 * HOUR, 1, 4],
        ['latest', 5 * MIN, 0, 3], // the newest missed tick is 7 min old: outside the window
        ['all', 6 * HOUR, 12, 15],
        ['all', HOUR, 4, 7], // 02:45, 03:00, 03:15, 03:30
      ];
      for (const [catchUp, windowMs, onReturn, total] of cases) {
        test(`${catchUp}, window ${windowMs / MIN} min: ${onReturn} on return, ${total} in all`, async (t) => {
          const { app, clock } = await open(make);
          t.after(() => app.store.close());
          const r = await throughDowntime(app, clock, {
            catchUp,
            catchUpWindowMs: windowMs,
            overlap: 'allow',
          });
          assert.deepEqual(
            r.before.map((p) => p.ticks.run),
            [1, 1],
            'on time while the engine is up',
          );
          assert.equal(r.back.ticks.run, onReturn, 'ticks fired on return');
          assert.equal(r.back.ticks.skipped + r.back.ticks.waiting, 0);
          assert.equal(r.again.ticks.run, 0, 'a second pass at the same time fires nothing');
          assert.equal(r.after.ticks.run, 1, 'the 03:45 tick fires on time');
          assert.equal(r.after.nextDueAt, T0 + 4 * HOUR, 'the next wake-up is 04:00');

          const ticks = await ticksOf(app.store.db, parseScheduleId(r.s.id));
          const runs = await scheduleRuns(app);
          assert.equal(ticks.length, total, 'tick rows');
          assert.equal(runs.length, total, 'runs');
          assert.deepEqual(
            new Set(ticks.map((x) => x.run_id)),
            new Set(runs.map((x) => x.id)),
            'each tick has its own run',
          );
          assert.equal(
            (await listTasks(app.store.db, {})).length,
            total,
            'one task per tick (no --task)',
          );
          const view = (await listScheduleViews(app))[0];
          assert.equal(view?.ticks.run, total);
          assert.equal(view?.lastTickAt, new Date(T0 + 3 * HOUR + 45 * MIN).toISOString());
        });
      }

      test('the task of a tick is titled with the tick time and carries the prompt', async (t) => {
        const { app, clock } = await open(make);
        t.after(() => app.store.close());
        await throughDowntime(app, clock, { catchUp: 'latest', overlap: 'allow', title: 'Inbox' });
        const tasks = await listTasks(app.store.db, { sort: 'created' });
        assert.deepEqual(
          tasks.map((x) => x.title),
          [
            'Inbox (2030-01-01 00:15 UTC)',
            'Inbox (2030-01-01 00:30 UTC)',
            'Inbox (2030-01-01 03:30 UTC)',
            'Inbox (2030-01-01 03:45 UTC)',
          ],
        );
        const runs = await scheduleRuns(app);
        assert.equal(
          runs[0]?.prompt,
          `# ${formatTaskId(tasks[0]?.id ?? 0)}: ${tasks[0]?.title}\n\nTriage the inbox\n`,
        );
        assert.ok(tasks.every((x) => x.status === 'in_progress' && x.agent === 'bot'));
      });
    });

    describe('overlap while the previous tick still runs (catch-up all, window 6 h)', () => {
      test('allow: all 12 missed ticks start at once', async (t) => {
        const { app, clock } = await open(make);
        t.after(() => app.store.close());
        const r = await throughDowntime(app, clock, { catchUp: 'all', overlap: 'allow' });
        assert.equal(r.back.ticks.run, 12);
        assert.equal((await activeScheduleRuns(app)).length, 15);
        assert.deepEqual(await outcomes(app, r.s.id), { run: 15 });
      });

      test('skip: a tick while the previous one runs is recorded as skipped, with no run', async (t) => {
        const { app, clock } = await open(make);
        t.after(() => app.store.close());
        const r = await throughDowntime(app, clock, { catchUp: 'all', overlap: 'skip' });
        // 00:15 starts; 00:30 finds it still queued (no engine) and is skipped; so are
        // the 12 missed ticks and 03:45.
        assert.deepEqual(
          r.before.map((p) => [p.ticks.run, p.ticks.skipped]),
          [
            [1, 0],
            [0, 1],
          ],
        );
        assert.deepEqual([r.back.ticks.run, r.back.ticks.skipped], [0, 12]);
        assert.deepEqual(await outcomes(app, r.s.id), { run: 1, skipped: 14 });
        assert.equal((await scheduleRuns(app)).length, 1);
      });

      test('skip: once the previous run has ended, the next tick starts', async (t) => {
        const { app, clock } = await open(make);
        t.after(() => app.store.close());
        clock.t = T0;
        await addSchedule(app, {
          cron: '*/15 * * * *',
          agent: 'bot',
          prompt: 'p',
          overlap: 'skip',
          catchUp: 'all',
        });
        clock.t = T0 + 15 * MIN;
        await runDueSchedules(app, clock.t);
        const [first] = await scheduleRuns(app);
        assert.ok(first);
        await endRun(app, first);
        clock.t = T0 + 30 * MIN;
        assert.equal((await runDueSchedules(app, clock.t)).ticks.run, 1);
        assert.equal((await scheduleRuns(app)).length, 2);
      });

      test('queue: missed ticks wait their turn and start one at a time as runs end', async (t) => {
        const { app, clock } = await open(make);
        t.after(() => app.store.close());
        const r = await throughDowntime(app, clock, { catchUp: 'all', overlap: 'queue' });
        // 00:15 runs; 00:30, the 12 missed ticks and 03:45 wait behind it.
        assert.deepEqual([r.back.ticks.run, r.back.ticks.waiting], [0, 12]);
        assert.deepEqual(await outcomes(app, r.s.id), { run: 1, waiting: 14 });
        assert.equal(r.again.ticks.run, 0, 'nothing starts while the run is active');
        const started: number[] = [];
        for (let i = 0; i < 14; i++) {
          const [active, ...more] = await activeScheduleRuns(app);
          assert.ok(active, 'one run is active');
          assert.equal(more.length, 0, 'never two at once');
          await endRun(app, active);
          clock.t += 1000;
          const p = await runDueSchedules(app, clock.t);
          assert.equal(p.ticks.run, 1, 'exactly one waiting tick starts per ended run');
          started.push(
            (await ticksOf(app.store.db, parseScheduleId(r.s.id))).filter(
              (x) => x.outcome === 'run',
            ).length,
          );
        }
        assert.deepEqual(await outcomes(app, r.s.id), { run: 15 });
        assert.equal((await scheduleRuns(app)).length, 15);
        // Waiting ticks start oldest first.
        const ticks = await ticksOf(app.store.db, parseScheduleId(r.s.id));
        const runs = await scheduleRuns(app);
        const order = runs.map((run) => ticks.find((x) => x.run_id === run.id)?.tick_at);
        assert.deepEqual(
          order,
          [...order].sort((a, b) => (a ?? 0) - (b ?? 0)),
        );
        assert.equal(started.at(-1), 15);
      });

      test('on a fixed task: skip and queue act on any active run of that task', async (t) => {
        const { app, clock } = await open(make);
        t.after(() => app.store.close());
        clock.t = T0;
        const task = parseTaskId(
          (await addTask(app, { title: 'Nightly report', status: 'backlog', agent: 'bot' })).id,
        );
        const skip = await addSchedule(app, {
          cron: '*/15 * * * *',
          agent: 'bot',
          prompt: 'Write the report',
          taskId: task,
          overlap: 'skip',
          catchUp: 'all',
        });
        clock.t = T0 + 15 * MIN;
        assert.equal((await runDueSchedules(app, clock.t)).ticks.run, 1);
        const [run] = await scheduleRuns(app);
        assert.equal(run?.task_id, task);
        assert.equal(
          run?.prompt,
          `# ${formatTaskId(task)}: Nightly report\n\n---\n\nWrite the report\n`,
        );
        clock.t = T0 + 30 * MIN;
        assert.equal((await runDueSchedules(app, clock.t)).ticks.skipped, 1);
        await removeSchedule(app, parseScheduleId(skip.id));

        const queue = await addSchedule(app, {
          cron: '*/15 * * * *',
          agent: 'bot',
          prompt: 'Write the report',
          taskId: task,
          overlap: 'queue',
        });
        clock.t = T0 + 45 * MIN;
        assert.equal((await runDueSchedules(app, clock.t)).ticks.waiting, 1);
        // Cancelling the task ends the run; a cancelled task cannot run, so the
        // waiting tick is recorded as skipped with the reason.
        if (run) await endRun(app, run);
        clock.t += 1000;
        const p = await runDueSchedules(app, clock.t);
        assert.equal(p.ticks.skipped, 1);
        const [tick] = await ticksOf(app.store.db, parseScheduleId(queue.id));
        assert.match(tick?.reason ?? '', /is cancelled: no run can start on it/);
      });
    });

    describe('each tick gets exactly one run', () => {
      test('an engine acting on a stale cursor finds the tick already recorded', async (t) => {
        const { app, clock, board } = await open(make);
        t.after(() => app.store.close());
        clock.t = T0;
        const s = await addSchedule(app, {
          cron: '*/15 * * * *',
          agent: 'bot',
          prompt: 'p',
          overlap: 'allow',
          catchUp: 'all',
        });
        clock.t = T0 + 46 * MIN;
        assert.equal((await runDueSchedules(app, clock.t)).ticks.run, 3);
        // Another engine that read the schedule before that commit.
        await board.rawQuery(
          `update schedules set last_tick_at = null where id = ${parseScheduleId(s.id)}`,
        );
        const stale = await runDueSchedules(app, clock.t);
        assert.equal(stale.ticks.run, 0);
        assert.deepEqual(stale.errors, [], 'the recorded ticks are passed over, not an error');
        assert.equal((await scheduleRuns(app)).length, 3);
        assert.equal((await ticksOf(app.store.db, parseScheduleId(s.id))).length, 3);
      });

      test('a failure in the middle of a pass leaves nothing half-done; the retry fires each tick once', async (t) => {
        const { app, clock, board } = await open(make);
        t.after(() => app.store.close());
        clock.t = T0;
        const s = await addSchedule(app, {
          cron: '*/15 * * * *',
          agent: 'bot',
          prompt: 'p',
          overlap: 'allow',
          catchUp: 'all',
        });
        // The database refuses the second run of the pass, as a crash would cut it short.
        if (board.dialect === 'sqlite') {
          await board.rawQuery(
            `create trigger crash before insert on runs when (select count(*) from runs) >= 1 begin select raise(abort, 'simulated crash'); end`,
          );
        } else {
          await board.rawQuery(
            `create function crash() returns trigger language plpgsql as $$ begin if (select count(*) from runs) >= 1 then raise exception 'simulated crash'; end if; return new; end $$`,
          );
          await board.rawQuery(
            'create trigger crash before insert on runs for each row execute function crash()',
          );
        }
        clock.t = T0 + 46 * MIN;
        const failed = await runDueSchedules(app, clock.t);
        assert.equal(failed.ticks.run, 0);
        assert.match(failed.errors.join('\n'), /simulated crash/);
        assert.equal((await ticksOf(app.store.db, parseScheduleId(s.id))).length, 0, 'no tick row');
        assert.equal((await listTasks(app.store.db, {})).length, 0, 'no task');
        assert.equal((await scheduleRuns(app)).length, 0, 'no run');
        assert.equal(
          (await listScheduleViews(app))[0]?.lastTickAt,
          null,
          'the cursor did not move',
        );

        await board.rawQuery(`drop trigger crash${board.dialect === 'postgres' ? ' on runs' : ''}`);
        clock.t += 1000;
        const retried = await runDueSchedules(app, clock.t);
        assert.deepEqual(retried.errors, []);
        assert.equal(retried.ticks.run, 3, '00:15, 00:30 and 00:45, once each');
        assert.equal((await scheduleRuns(app)).length, 3);
      });

      test('two engines ticking the same instant together make one run per tick', async (t) => {
        const { app, clock, board } = await open(make);
        const other = await board.open({ clock, config: testConfig() });
        t.after(async () => {
          await other.store.close();
          await app.store.close();
        });
        clock.t = T0;
        await addSchedule(app, {
          cron: '*/15 * * * *',
          agent: 'bot',
          prompt: 'p',
          overlap: 'allow',
          catchUp: 'all',
        });
        clock.t = T0 + 2 * HOUR + 1000;
        const passes =
          board.dialect === 'postgres'
            ? await Promise.all([runDueSchedules(app, clock.t), runDueSchedules(other, clock.t)])
            : // better-sqlite3 blocks the thread while a writer waits: take turns in one process.
              [await runDueSchedules(app, clock.t), await runDueSchedules(other, clock.t)];
        assert.equal(
          passes.reduce((n, p) => n + p.ticks.run, 0),
          8,
        );
        assert.equal((await scheduleRuns(app)).length, 8);
      });
    });

    describe('adding, listing, removing', () => {
      test('bad input is refused with a clear error and changes nothing', async (t) => {
        const { app } = await open(make);
        t.after(() => app.store.close());
        const before = await snapshot(app);
        const ok = { cron: '0 9 * * 1-5', agent: 'bot', prompt: 'Triage' };
        const refused: [
          Partial<ScheduleInput>,
          RegExp,
          typeof UsageError | typeof NotFoundError,
        ][] = [
          [{ cron: '0 9 * *' }, /"0 9 \* \*" is not a valid cron expression/, UsageError],
          [{ cron: '0 25 * * *' }, /"0 25 \* \* \*" is not a valid cron expression/, UsageError],
          [{ agent: 'ghost' }, /agent "ghost" is not configured/, UsageError],
          [{ prompt: '  ' }, /needs a prompt/, UsageError],
          [{ timezone: 'Nowhere/City' }, /"Nowhere\/City" is not a time zone/, UsageError],
          [{ taskId: 1, overlap: 'allow' }, /cannot use --overlap allow/, UsageError],
          [{ taskId: 99 }, /task T-99 not found/, NotFoundError],
          [{ catchUpWindowMs: -1 }, /catch-up window/, UsageError],
        ];
        for (const [bad, message, type] of refused) {
          await assert.rejects(addSchedule(app, { ...ok, ...bad }), (e: unknown) => {
            assert.ok(e instanceof type, `${JSON.stringify(bad)}: ${e}`);
            assert.match((e as Error).message, message);
            return true;
          });
        }
        assert.equal(await snapshot(app), before);
        assert.equal((await listSchedules(app.store.db)).length, 0);
      });

      test('list shows the next tick in the time zone; rm removes it and its ticks', async (t) => {
        const { app, clock } = await open(make);
        t.after(() => app.store.close());
        const s = await addSchedule(app, {
          cron: '0 9 * * 1-5',
          agent: 'bot',
          prompt: 'Triage',
          timezone: 'Europe/Paris',
        });
        assert.equal(s.id, 'S-1');
        assert.equal(s.nextTickAt, '2030-01-01T08:00:00.000Z');
        assert.deepEqual(
          { catchUp: s.catchUp, window: s.catchUpWindowMs, overlap: s.overlap },
          { catchUp: 'latest', window: 6 * HOUR, overlap: 'skip' },
        );
        clock.t = Date.UTC(2030, 0, 1, 8);
        await runDueSchedules(app, clock.t);
        const [listed] = await listScheduleViews(app);
        assert.equal(listed?.ticks.run, 1);
        assert.equal(listed?.nextTickAt, '2030-01-02T08:00:00.000Z');
        assert.deepEqual(await removeSchedule(app, 1), { id: 'S-1', deleted: true });
        assert.deepEqual(await listScheduleViews(app), []);
        assert.equal((await ticksOf(app.store.db, 1)).length, 0);
        assert.equal((await scheduleRuns(app)).length, 1, 'the run it made stays');
        await assert.rejects(removeSchedule(app, 1), /schedule S-1 not found/);
      });
    });

    describe('heartbeat', () => {
      const raw = (heartbeat?: Record<string, unknown>) => ({
        agents: {
          bot: { kind: 'command', command: 'true', ...(heartbeat ? { heartbeat } : {}) },
          helper: { kind: 'command', command: 'true' },
        },
        board: { autostart: false },
      });

      test('is created from the config once, with its own task, and acts on open tasks and mentions', async (t) => {
        const { app, clock } = await open(make, raw({ cron: '0 * * * *' }));
        t.after(() => app.store.close());
        await syncHeartbeats(app);
        await syncHeartbeats(app);
        const schedules = await listSchedules(app.store.db);
        assert.equal(schedules.length, 1, 'one heartbeat, however often the engine starts');
        const hb = schedules[0];
        assert.ok(hb?.task_id);
        const hbTask = await getTask(app.store.db, hb.task_id);
        assert.equal(hbTask?.title, 'bot heartbeat');
        assert.equal(hbTask?.status, 'backlog');

        // 01:00, nothing to review: the tick is idle, no run.
        clock.t = T0 + HOUR;
        assert.equal((await runDueSchedules(app, clock.t)).ticks.idle, 1);
        assert.equal((await scheduleRuns(app)).length, 0);

        // Work arrives: a task assigned to bot and a comment mentioning it.
        clock.t = T0 + HOUR + 10 * MIN;
        const mine = parseTaskId((await addTask(app, { title: 'Fix the login', agent: 'bot' })).id);
        const other = parseTaskId((await addTask(app, { title: 'Docs', agent: 'helper' })).id);
        await commentOnTask(app, other, 'alice', 'Could @bot check the wording?');
        await commentOnTask(app, other, 'alice', 'A comment for nobody');
        // The mention queued a run of bot on the other task; end it so the board is quiet.
        const mentionRun = (await listRuns(app.store.db, { taskId: other }))[0];
        if (mentionRun) await cancelTask(app, other);

        clock.t = T0 + 2 * HOUR;
        const pass = await runDueSchedules(app, clock.t);
        assert.equal(pass.ticks.run, 1);
        const [run] = await scheduleRuns(app);
        assert.equal(run?.task_id, hb.task_id);
        assert.equal(run?.agent, 'bot');
        assert.equal(
          run?.prompt,
          [
            '# Heartbeat of bot (2030-01-01T02:00:00.000Z)',
            '',
            'Review your work on the board and act on it: answer the comments below, or note on the bus what blocks them and what should move. Use the `agentboard` CLI (it reaches the board with this run’s token), e.g. `agentboard task show T-1`, `agentboard task comment T-1 "…"`.',
            '',
            '## Your open tasks (1)',
            `- ${formatTaskId(mine)} [todo] Fix the login`,
            '',
            '## Comments mentioning you, not yet answered (1)',
            `- ${formatTaskId(other)}, alice, 2030-01-01T01:10:00.000Z: Could @bot check the wording?`,
            '',
          ].join('\n'),
        );
        assert.equal((await getTask(app.store.db, hb.task_id))?.status, 'in_progress');

        // The next hour, the heartbeat run is still queued: overlap skip.
        clock.t = T0 + 3 * HOUR;
        assert.equal((await runDueSchedules(app, clock.t)).ticks.skipped, 1);

        // The heartbeat cannot be removed by hand: the config owns it.
        await assert.rejects(removeSchedule(app, hb.id), (e: unknown) => {
          assert.ok(e instanceof ConflictError);
          assert.match(e.message, /heartbeat of agent "bot": remove agents\.bot\.heartbeat/);
          return true;
        });
      });

      test('a changed cron updates it; a removed heartbeat is disabled', async (t) => {
        const { board, clock, app } = await open(make, raw({ cron: '0 * * * *' }));
        await syncHeartbeats(app);
        await app.store.close();

        clock.t = T0 + 10 * MIN;
        const changed = await board.open({
          clock,
          config: configSchema.parse(raw({ cron: '30 * * * *', prompt: 'Also check CI.' })),
        });
        await syncHeartbeats(changed);
        const s = await heartbeatScheduleOf(changed.store.db, 'bot');
        assert.equal(s?.cron, '30 * * * *');
        assert.equal(s?.prompt, 'Also check CI.');
        assert.equal(s?.last_tick_at, T0 + 10 * MIN, 'counts from the change');
        // With a configured prompt the heartbeat runs even with nothing to review.
        clock.t = T0 + 30 * MIN;
        assert.equal((await runDueSchedules(changed, clock.t)).ticks.run, 1);
        const [run] = await scheduleRuns(changed);
        assert.match(
          run?.prompt ?? '',
          /^# Heartbeat of bot \(2030-01-01T00:30:00.000Z\)\n\nAlso check CI\.\n/,
        );
        await changed.store.close();

        const removed = await board.open({ clock, config: configSchema.parse(raw()) });
        t.after(() => removed.store.close());
        await syncHeartbeats(removed);
        assert.equal((await heartbeatScheduleOf(removed.store.db, 'bot'))?.enabled, 0);
        clock.t = T0 + 90 * MIN;
        const p = await runDueSchedules(removed, clock.t);
        assert.deepEqual(p.ticks, { run: 0, skipped: 0, waiting: 0, idle: 0 });
        assert.equal(p.nextDueAt, null);
      });
    });
  });
}
