/**
 * Property test: random sequences of user operations and simulated engine
 * steps, driven through the application services against a real SQLite file.
 * After every step the board's invariants are checked from the database.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { App } from '../../src/app/context.js';
import { finishRun, type RunEnd } from '../../src/app/finish-run.js';
import { startRun, stopRun } from '../../src/app/runs.js';
import { addTask, cancelTask, editTask, moveTask } from '../../src/app/tasks.js';
import { AgentboardError } from '../../src/domain/errors.js';
import { formatTaskId } from '../../src/domain/ids.js';
import {
  ACTIVE_RUN_STATES,
  isActiveRun,
  isTerminalRun,
  type RunEvent,
  type RunState,
  stepRun,
  transitionRun,
} from '../../src/domain/run.js';
import { PRIORITIES, TASK_STATUSES } from '../../src/domain/task.js';
import { activeRunOfTask, claimNext, getRun, updateRunFenced } from '../../src/store/runs.js';
import { FakeClock, snapshot, sqliteBoard, testConfig } from '../support/board.js';

const OUTCOMES = [
  'succeeded',
  'failed_retryable',
  'failed_fatal',
  'timed_out',
  'lost',
  'cancelled',
] as const;
type Outcome = (typeof OUTCOMES)[number];

type Op =
  | {
      kind: 'add';
      agent: 'bot' | 'helper' | null;
      deps: number[];
      status: 'todo' | 'backlog' | 'review';
      priority: (typeof PRIORITIES)[number];
      loop: boolean;
    }
  | { kind: 'move'; task: number; to: (typeof TASK_STATUSES)[number]; position?: number }
  | { kind: 'cancel'; task: number; live: boolean }
  | { kind: 'start'; task: number; agent?: 'bot' | 'helper' }
  | { kind: 'stop'; task: number; live: boolean }
  | { kind: 'depend'; task: number; on: number }
  | { kind: 'claim' }
  | { kind: 'running'; pick: number }
  | { kind: 'finish'; pick: number; outcome: Outcome; stale: boolean; complete: boolean }
  | { kind: 'tick'; ms: number };

const ref = fc.nat(1000);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('add' as const),
      agent: fc.constantFrom('bot' as const, 'helper' as const, null),
      // Mostly none: a task waiting on unfinished work never reaches the engine.
      deps: fc.oneof(
        { weight: 3, arbitrary: fc.constant<number[]>([]) },
        { weight: 1, arbitrary: fc.array(ref, { minLength: 1, maxLength: 2 }) },
      ),
      status: fc.constantFrom(
        'todo' as const,
        'todo' as const,
        'backlog' as const,
        'review' as const,
      ),
      priority: fc.constantFrom(...PRIORITIES),
      loop: fc.boolean(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record(
      {
        kind: fc.constant('move' as const),
        task: ref,
        to: fc.constantFrom(...TASK_STATUSES),
        position: fc.nat(4),
      },
      { requiredKeys: ['kind', 'task', 'to'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('cancel' as const), task: ref, live: fc.boolean() }),
  },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        kind: fc.constant('start' as const),
        task: ref,
        agent: fc.constantFrom('bot' as const, 'helper' as const),
      },
      { requiredKeys: ['kind', 'task'] },
    ),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('stop' as const),
      task: ref,
      live: fc.nat(3).map((n) => n > 0),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('depend' as const), task: ref, on: ref }) },
  { weight: 5, arbitrary: fc.constant({ kind: 'claim' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('running' as const), pick: fc.nat(100) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('finish' as const),
      pick: fc.nat(100),
      outcome: fc.constantFrom(...OUTCOMES),
      stale: fc.nat(9).map((n) => n < 2),
      complete: fc.boolean(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.nat(10_000) }) },
);

function runEnd(outcome: Outcome, complete: boolean): RunEnd {
  const base = { exitSignal: null, stderrTail: '', complete: false, verified: false };
  switch (outcome) {
    case 'succeeded':
      return {
        ...base,
        state: 'succeeded',
        exitCode: 0,
        reason: 'exit 0',
        retryable: false,
        complete,
        verified: complete,
      };
    case 'failed_retryable':
      return {
        ...base,
        state: 'failed',
        exitCode: 1,
        reason: 'exit 1',
        retryable: true,
        stderrTail: 'boom',
      };
    case 'failed_fatal':
      return {
        ...base,
        state: 'failed',
        exitCode: 127,
        reason: 'exit 127: command not found',
        retryable: false,
      };
    case 'timed_out':
      return {
        ...base,
        state: 'timed_out',
        exitCode: null,
        exitSignal: 'SIGTERM',
        reason: 'timed out after 2h',
        retryable: true,
      };
    case 'lost':
      return { ...base, state: 'lost', exitCode: null, reason: 'lost: pid gone', retryable: true };
    case 'cancelled':
      return {
        ...base,
        state: 'cancelled',
        exitCode: null,
        exitSignal: 'SIGTERM',
        reason: 'stopped by user',
        retryable: false,
      };
  }
}

/** Every one-step run transition the state machine allows ("from>to"). */
const LEGAL_RUN_STEPS = (() => {
  const events: RunEvent[] = [
    { type: 'claim' },
    { type: 'release' },
    { type: 'start' },
    { type: 'exit', code: 0 },
    { type: 'exit', code: 1 },
    { type: 'fail' },
    { type: 'timeout' },
    { type: 'cancel' },
    { type: 'lose' },
  ];
  const steps = new Set<string>();
  for (const from of ACTIVE_RUN_STATES) {
    for (const e of events) {
      try {
        steps.add(`${from}>${transitionRun(from, e)}`);
      } catch {
        // illegal: not a step
      }
    }
  }
  return steps;
})();

/** Outcomes the engine can report for a run that was claimed but never started. */
const FROM_CLAIMED: Outcome[] = ['failed_fatal', 'failed_retryable', 'lost', 'cancelled'];

interface Held {
  runId: string;
  token: number;
}

interface Observed {
  runs: Map<string, { state: RunState; row: string }>;
  tasksJson: string;
  events: number;
}

async function observe(app: App): Promise<Observed> {
  const runs = await app.store.db.selectFrom('runs').selectAll().execute();
  const tasks = await app.store.db.selectFrom('tasks').selectAll().orderBy('id').execute();
  const events = await app.store.db.selectFrom('events').select('id').orderBy('id').execute();
  return {
    runs: new Map(runs.map((r) => [r.id, { state: r.state, row: JSON.stringify(r) }])),
    tasksJson: JSON.stringify(tasks),
    events: events.length,
  };
}

async function checkInvariants(app: App, before: Observed, step: string): Promise<Observed> {
  const db = app.store.db;
  const now = await observe(app);

  // (a) at most one active run per task.
  const runs = await db.selectFrom('runs').select(['id', 'task_id', 'state']).execute();
  const activeByTask = new Map<number, string[]>();
  for (const r of runs) {
    if (!isActiveRun(r.state)) continue;
    const list = activeByTask.get(Number(r.task_id)) ?? [];
    list.push(r.id);
    activeByTask.set(Number(r.task_id), list);
  }
  for (const [task, list] of activeByTask) {
    assert.ok(list.length <= 1, `${step}: T-${task} has ${list.length} active runs`);
  }

  // (b) a terminal run never changes again; every run change is a legal step.
  for (const [id, prev] of before.runs) {
    const cur = now.runs.get(id);
    assert.ok(cur, `${step}: run ${id} disappeared`);
    if (isTerminalRun(prev.state)) {
      assert.equal(cur.row, prev.row, `${step}: terminal run ${id} changed`);
    } else if (cur.state !== prev.state) {
      assert.ok(
        LEGAL_RUN_STEPS.has(`${prev.state}>${cur.state}`),
        `${step}: run ${id} went ${prev.state} -> ${cur.state}`,
      );
    }
  }
  for (const [id, cur] of now.runs) {
    if (!before.runs.has(id)) {
      assert.equal(cur.state, 'queued', `${step}: new run ${id} is born ${cur.state}`);
    }
  }

  // (c) a card is in_progress exactly when it has an active run.
  const tasks = await db.selectFrom('tasks').select(['id', 'status']).execute();
  for (const t of tasks) {
    const active = activeByTask.has(Number(t.id));
    assert.equal(
      t.status === 'in_progress',
      active,
      `${step}: T-${t.id} is ${t.status} with${active ? '' : 'out'} an active run`,
    );
  }

  // (d) event ids are 1..N, in order.
  const ids = (await db.selectFrom('events').select('id').orderBy('id').execute()).map((e) =>
    Number(e.id),
  );
  assert.deepEqual(
    ids,
    ids.map((_, i) => i + 1),
    `${step}: event ids have a gap`,
  );
  // Every change to a card is recorded as an event.
  if (now.tasksJson !== before.tasksJson) {
    assert.ok(now.events > before.events, `${step}: a card changed without an event`);
  }
  return now;
}

async function taskCount(app: App): Promise<number> {
  const r = await app.store.db
    .selectFrom('tasks')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}

/** How often cancel/stop met each state of the task's active run ("none" when it had none). */
const scenarios: Record<string, number> = {};

function note(key: string): void {
  scenarios[key] = (scenarios[key] ?? 0) + 1;
}

async function activeState(app: App, taskId: number): Promise<string> {
  return (await activeRunOfTask(app.store.db, taskId))?.state ?? 'none';
}

/** A task whose run is claimed or running (the interesting target for cancel/stop), if any. */
async function liveTask(app: App, r: number, fallback: (r: number) => number): Promise<number> {
  const live = await app.store.db
    .selectFrom('runs')
    .select('task_id')
    .where('state', 'in', ['claimed', 'running'])
    .orderBy('id')
    .execute();
  const pick = live[r % Math.max(1, live.length)];
  return pick ? Number(pick.task_id) : fallback(r);
}

/** Runs one op. Returns 'refused' when a service refused it (or a fenced write was rejected). */
async function apply(
  app: App,
  clock: FakeClock,
  held: Held[],
  op: Op,
  checkpoint: () => Promise<void>,
): Promise<'ok' | 'refused'> {
  const n = await taskCount(app);
  // Task references wrap onto existing tasks; with no tasks they name T-1, which is missing.
  const task = (r: number) => (n === 0 ? 1 : (r % n) + 1);
  switch (op.kind) {
    case 'add':
      await addTask(app, {
        title: `task ${n + 1}`,
        agent: op.agent,
        status: op.status,
        priority: op.priority,
        dependsOn: n === 0 ? [] : op.deps.map(task),
        ...(op.loop ? { loop: { enabled: true, maxIterations: 2 } } : {}),
      });
      return 'ok';
    case 'move':
      await moveTask(app, task(op.task), op.to, op.position);
      return 'ok';
    case 'cancel': {
      const id = op.live ? await liveTask(app, op.task, task) : task(op.task);
      note(`cancel:${await activeState(app, id)}`);
      await cancelTask(app, id);
      return 'ok';
    }
    case 'start':
      await startRun(app, task(op.task), op.agent ? { agent: op.agent } : {});
      return 'ok';
    case 'stop': {
      const id = op.live ? await liveTask(app, op.task, task) : task(op.task);
      note(`stop:${await activeState(app, id)}`);
      await stopRun(app, formatTaskId(id));
      return 'ok';
    }
    case 'depend':
      await editTask(app, task(op.task), { addDependsOn: [task(op.on)] });
      return 'ok';
    case 'tick':
      clock.advance(op.ms);
      return 'ok';
    case 'claim': {
      const agents = app.config.agents;
      const row = await app.store.tx((tx) =>
        claimNext(tx, {
          workerId: 'w1',
          host: 'h',
          bootId: 'b',
          leaseMs: 30_000,
          agentLimits: Object.fromEntries(
            Object.entries(agents).map(([k, a]) => [k, a.max_concurrency]),
          ),
          globalLimit: app.config.board.max_concurrency,
        }),
      );
      if (row) held.push({ runId: row.id, token: row.lease_token as number });
      return 'ok';
    }
    case 'running': {
      const h = held[op.pick % Math.max(1, held.length)];
      if (!h) return 'ok';
      const run = await getRun(app.store.db, h.runId);
      if (run?.state !== 'claimed') return 'ok';
      const ok = await app.store.tx((tx) =>
        updateRunFenced(tx, h.runId, h.token, {
          state: stepRun(run.state, { type: 'start' }),
          started_at: tx.now,
          pid: 99,
        }),
      );
      assert.ok(ok, 'the lease holder can mark its run running');
      return 'ok';
    }
    case 'finish': {
      const i = op.pick % Math.max(1, held.length);
      const h = held[i];
      if (!h) return 'ok';
      const run = await getRun(app.store.db, h.runId);
      assert.ok(run && (run.state === 'claimed' || run.state === 'running'), 'held runs are live');
      if (op.stale) {
        const ok = await finishRun(app, h.runId, h.token + 1, runEnd(op.outcome, op.complete));
        assert.equal(ok, false, 'a stale token cannot end a run');
        return 'refused';
      }
      let outcome = op.outcome;
      if (run.state === 'claimed' && !FROM_CLAIMED.includes(outcome)) {
        // The engine only reports these for a started process: start it first.
        await app.store.tx((tx) =>
          updateRunFenced(tx, h.runId, h.token, {
            state: stepRun(run.state, { type: 'start' }),
            started_at: tx.now,
          }),
        );
        await checkpoint();
      }
      if (run.state === 'claimed' && outcome === 'failed_retryable') outcome = 'failed_fatal';
      const ok = await finishRun(app, h.runId, h.token, runEnd(outcome, op.complete));
      assert.equal(ok, true, 'the lease holder can end its run');
      held.splice(i, 1);
      return 'ok';
    }
  }
}

const RUNS = 60;

/** fc.assert, but the failure shows the underlying assertion (the test reporter hides `cause`). */
async function fcAssert<T>(prop: fc.IAsyncProperty<T>, params: fc.Parameters<T>): Promise<void> {
  try {
    await fc.assert(prop, params);
  } catch (e) {
    const cause = (e as Error).cause;
    throw new Error(
      `${(e as Error).message}\nCause: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}

function describeOp(op: Op): string {
  return JSON.stringify(op);
}

test('invariants hold after every step of random operations (SQLite)', async () => {
  const config = testConfig();
  let runsDone = 0;
  /** What the runs reached, so the test cannot pass by never exercising the engine path. */
  const stats = { ok: 0, refused: 0, finished: 0, retried: 0, blocked: 0, cancelled: 0, review: 0 };
  await fcAssert(
    fc.asyncProperty(
      fc.array(opArb, { minLength: 10, maxLength: 40, size: 'max' }),
      async (ops) => {
        const clock = new FakeClock();
        const app = await sqliteBoard().open({ config, clock, random: () => 0.5 });
        const held: Held[] = [];
        try {
          let seen = await observe(app);
          for (const [i, op] of ops.entries()) {
            const step = `step ${i} ${describeOp(op)}`;
            const before = await snapshot(app);
            let result: 'ok' | 'refused';
            try {
              result = await apply(app, clock, held, op, async () => {
                seen = await checkInvariants(app, seen, `${step} (started)`);
              });
            } catch (e) {
              // Refusals are expected; anything else (a raw SQL error, a TypeError) is a bug.
              assert.ok(
                e instanceof AgentboardError,
                `${step}: unexpected ${(e as Error).stack ?? String(e)}`,
              );
              result = 'refused';
            }
            stats[result]++;
            if (op.kind === 'finish' && result === 'ok') stats.finished++;
            if (result === 'refused') {
              assert.equal(
                await snapshot(app),
                before,
                `${step}: a refused operation changed data`,
              );
            }
            seen = await checkInvariants(app, seen, step);
          }
          const runs = await app.store.db.selectFrom('runs').select('attempt').execute();
          stats.retried += runs.filter((r) => r.attempt > 1).length;
          const tasks = await app.store.db.selectFrom('tasks').select('status').execute();
          for (const t of tasks) {
            if (t.status === 'blocked') stats.blocked++;
            if (t.status === 'cancelled') stats.cancelled++;
            if (t.status === 'review') stats.review++;
          }
        } finally {
          await app.store.close();
        }
        runsDone++;
      },
    ),
    { numRuns: RUNS },
  );
  assert.equal(runsDone, RUNS);
  const seen = { ...stats, ...scenarios };
  const count = (...keys: string[]) => keys.reduce((n, k) => n + (scenarios[k] ?? 0), 0);
  const reached: Record<string, number> = {
    ...stats,
    'cancel of a queued run': count('cancel:queued'),
    'cancel of a live run': count('cancel:claimed', 'cancel:running'),
    'stop of a queued run': count('stop:queued'),
    'stop of a live run': count('stop:claimed', 'stop:running'),
  };
  for (const [what, n] of Object.entries(reached)) {
    assert.ok(n >= 1, `the operations never reached: ${what} (${JSON.stringify(seen)})`);
  }
  console.log(JSON.stringify(seen));
});
