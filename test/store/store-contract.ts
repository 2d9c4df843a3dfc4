/**
 * The store's contract, written once and run against each dialect
 * (store-sqlite.test.ts, store-postgres.test.ts). Not a test file itself.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { App } from '../../src/app/context.js';
import { deleteTask } from '../../src/app/delete-task.js';
import { finishRun, type RunEnd } from '../../src/app/finish-run.js';
import { showTask } from '../../src/app/read-task.js';
import { startRun, stopRun } from '../../src/app/runs.js';
import {
  addTask,
  cancelTask,
  commentOnTask,
  editTask,
  listTaskViews,
  moveTask,
} from '../../src/app/tasks.js';
import {
  AgentboardError,
  ConflictError,
  NotFoundError,
  StoreError,
  UsageError,
} from '../../src/domain/errors.js';
import { formatTaskId } from '../../src/domain/ids.js';
import { ACTIVE_RUN_STATES, stepRun } from '../../src/domain/run.js';
import { stepTask, type TaskStatus } from '../../src/domain/task.js';
import { nextValue } from '../../src/store/counters.js';
import { appendEvent, lastEventId, readEvents } from '../../src/store/events.js';
import { LATEST_VERSION, MIGRATIONS } from '../../src/store/migrations/index.js';
import { insertOutputChunks } from '../../src/store/run-output.js';
import {
  activeRunOfTask,
  claimNext,
  claimRuns,
  getRun,
  insertRun,
  listRuns,
  RunMovedError,
  type RunRow,
  renewLeases,
  updateRun,
  updateRunFenced,
} from '../../src/store/runs.js';
import { getTask, type TaskFilter, TaskMovedError, updateTask } from '../../src/store/tasks.js';
import { type BoardLocation, FakeClock, snapshot, testConfig } from '../support/board.js';

export type NewBoard = () => Promise<BoardLocation>;

/** `cycle` closes on itself and each step is one of `edges` ("T-a>T-b"). */
function assertCycleOver(cycle: string[], edges: string[]): void {
  assert.ok(cycle.length >= 2, String(cycle));
  assert.equal(cycle[0], cycle.at(-1));
  for (let i = 0; i + 1 < cycle.length; i++) {
    assert.ok(edges.includes(`${cycle[i]}>${cycle[i + 1]}`), `${cycle.join(' -> ')}`);
  }
}

const WORKER = { workerId: 'w1', host: 'host-a', bootId: 'boot-1', leaseMs: 30_000 };

async function claim(
  app: App,
  agentLimits: Record<string, number> = { bot: 2, helper: 1 },
  globalLimit = 3,
): Promise<RunRow | undefined> {
  return app.store.tx((tx) => claimNext(tx, { ...WORKER, agentLimits, globalLimit }));
}

async function markRunning(app: App, run: RunRow): Promise<void> {
  const ok = await app.store.tx((tx) =>
    updateRunFenced(tx, run.id, run.lease_token as number, {
      state: stepRun(run.state, { type: 'start' }),
      started_at: tx.now,
      pid: 4242,
    }),
  );
  assert.ok(ok, 'marking a freshly claimed run running must pass the fence');
}

const FAILED: RunEnd = {
  state: 'failed',
  exitCode: 1,
  exitSignal: null,
  reason: 'exit 1',
  retryable: true,
  stderrTail: 'boom\n',
  complete: false,
  verified: false,
};

const SUCCEEDED: RunEnd = { ...FAILED, state: 'succeeded', exitCode: 0, reason: 'exit 0' };

async function ids(app: App, filter: TaskFilter): Promise<string[]> {
  return (await listTaskViews(app, filter)).map((t) => t.id);
}

async function column(app: App, status: TaskStatus): Promise<string[]> {
  return ids(app, { statuses: [status], sort: 'board' });
}

async function allEvents(app: App) {
  return readEvents(app.store.db, { after: 0, limit: 100_000 });
}

async function assertGapFree(app: App): Promise<number> {
  const evs = await allEvents(app);
  assert.deepEqual(
    evs.map((e) => e.id),
    evs.map((_, i) => i + 1),
    'event ids are 1..N with no gap',
  );
  assert.equal(await lastEventId(app.store.db), evs.length);
  return evs.length;
}

/** Asserts `fn` fails with an AgentboardError and changes nothing at all. */
async function refusedWithoutChange(
  app: App,
  fn: () => Promise<unknown>,
  check: (e: AgentboardError) => void,
): Promise<void> {
  const before = await snapshot(app);
  await assert.rejects(fn, (e: unknown) => {
    assert.ok(e instanceof AgentboardError, `expected an AgentboardError, got ${String(e)}`);
    check(e);
    return true;
  });
  assert.equal(await snapshot(app), before, 'a refused operation must leave no trace');
}

export function storeContract(dialect: string, newBoard: NewBoard): void {
  /** Opens a fresh board, runs `fn`, always closes. */
  async function withApp(
    fn: (app: App, clock: FakeClock, loc: BoardLocation) => Promise<void>,
    config = testConfig(),
  ): Promise<void> {
    const loc = await newBoard();
    const clock = new FakeClock();
    const app = await loc.open({ clock, config });
    try {
      await fn(app, clock, loc);
    } finally {
      await app.store.close();
    }
  }
  const manual = testConfig({ board: { autostart: false } });

  describe(`store contract (${dialect})`, () => {
    test('migrations: applied at open, re-opening is a no-op, concurrent first opens are safe', async () => {
      const loc = await newBoard();
      // Two stores opening one fresh database at once. On SQLite that is only
      // meaningful across processes (multi-process.test.ts): in one process a
      // synchronous busy wait blocks the event loop the other store needs.
      const [a, b] =
        loc.dialect === 'postgres'
          ? await Promise.all([loc.open(), loc.open()])
          : [await loc.open(), await loc.open()];
      await b.store.close();
      const versions = await a.store.db.selectFrom('schema_version').selectAll().execute();
      assert.deepEqual(
        versions.map((v) => Number(v.version)).sort((x, y) => x - y),
        MIGRATIONS.map((m) => m.version),
        'each migration applied once',
      );
      await addTask(a, { title: 'survives a re-open' });
      await a.store.close();

      const again = await loc.open();
      try {
        const v2 = await again.store.db.selectFrom('schema_version').selectAll().execute();
        assert.equal(v2.length, MIGRATIONS.length);
        assert.equal((await showTask(again, 1)).title, 'survives a re-open');
        assert.equal((await addTask(again, { title: 'next' })).id, 'T-2');
      } finally {
        await again.store.close();
      }
    });

    test('migrations: a database with a newer schema_version is refused, untouched', async () => {
      const loc = await newBoard();
      const app = await loc.open();
      await addTask(app, { title: 'keep me' });
      await app.store.db
        .insertInto('schema_version')
        .values({ version: LATEST_VERSION + 41, applied_at: 1 })
        .execute();
      await app.store.close();
      await assert.rejects(loc.open(), (e: unknown) => {
        assert.ok(e instanceof StoreError);
        assert.equal(e.code, 'schema_too_new');
        assert.equal(
          e.message,
          `the database is at schema version ${LATEST_VERSION + 41}, newer than this agentboard understands (${LATEST_VERSION}): upgrade agentboard, or point AGENTBOARD_HOME / AGENTBOARD_DATABASE_URL at another database`,
        );
        return true;
      });
      // The refusal left the data alone: without the marker it opens as before.
      await loc.rawQuery(`delete from schema_version where version = ${LATEST_VERSION + 41}`);
      const again = await loc.open();
      try {
        assert.equal((await showTask(again, 1)).title, 'keep me');
        assert.equal(await assertGapFree(again), 1);
      } finally {
        await again.store.close();
      }
    });

    test('a transaction that throws leaves nothing behind, and listeners hear only commits', async () => {
      await withApp(async (app) => {
        const heard: number[][] = [];
        app.store.changes.on('events', (evs) => heard.push(evs.map((e) => e.id)));
        await addTask(app, { title: 'kept' });
        const before = await snapshot(app);
        await assert.rejects(
          app.store.tx(async (tx) => {
            await nextValue(tx, 'task');
            await appendEvent(tx, 'task.created', {
              taskId: 99,
              data: { title: 'never', status: 'todo' },
            });
            await tx.db.updateTable('tasks').set({ title: 'changed' }).execute();
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.equal(await snapshot(app), before);
        await addTask(app, { title: 'next' });
        assert.deepEqual(heard, [[1], [2]], 'the rolled-back event was never announced');
        assert.equal(
          (await showTask(app, 2)).title,
          'next',
          'the task counter was rolled back too',
        );
      }, manual);
    });

    test('task CRUD through the services', async () => {
      await withApp(async (app, clock) => {
        const t = await addTask(app, {
          title: '  Fix login  ',
          body: '## Spec\nIt breaks.',
          priority: 'high',
          agent: 'bot',
          labels: ['auth', 'bug', 'auth'],
          status: 'backlog',
          verifyCommand: 'npm test',
          loop: { enabled: true, maxIterations: 4, delayMs: 2000, doneFile: 'FIN' },
          maxAttempts: 5,
          maxCostUsd: 1.5,
        });
        assert.equal(t.id, 'T-1');
        assert.equal(t.title, 'Fix login');
        assert.equal(t.status, 'backlog');
        assert.deepEqual(t.labels, ['auth', 'bug']);
        assert.equal(t.createdAt, new Date(clock.now()).toISOString());

        const shown = await showTask(app, 1);
        assert.deepEqual(
          {
            title: shown.title,
            body: shown.body,
            priority: shown.priority,
            agent: shown.agent,
            labels: shown.labels,
            verifyCommand: shown.verifyCommand,
            loop: shown.loop,
            maxAttempts: shown.maxAttempts,
            maxCostUsd: shown.maxCostUsd,
            runs: shown.runs,
            comments: shown.comments,
          },
          {
            title: 'Fix login',
            body: '## Spec\nIt breaks.',
            priority: 'high',
            agent: 'bot',
            labels: ['auth', 'bug'],
            verifyCommand: 'npm test',
            loop: { enabled: true, maxIterations: 4, delayMs: 2000, doneFile: 'FIN' },
            maxAttempts: 5,
            maxCostUsd: 1.5,
            runs: [],
            comments: [],
          },
        );

        clock.advance(60_000);
        const edited = await editTask(app, 1, {
          title: 'Fix the login',
          priority: 'urgent',
          agent: null,
          labels: ['auth'],
          verifyCommand: null,
          loop: { enabled: false },
          maxAttempts: null,
        });
        assert.equal(edited.title, 'Fix the login');
        assert.equal(edited.priority, 'urgent');
        assert.equal(edited.agent, null);
        assert.deepEqual(edited.labels, ['auth']);
        assert.equal(edited.verifyCommand, null);
        assert.equal(edited.loop.enabled, false);
        assert.equal(edited.loop.maxIterations, 4);
        assert.equal(edited.maxAttempts, null);
        assert.equal(edited.updatedAt, new Date(clock.now()).toISOString());
        assert.equal(edited.createdAt, t.createdAt);
        assert.deepEqual(await showTask(app, 1).then((s) => s.title), 'Fix the login');

        assert.deepEqual(
          (await allEvents(app)).map((e) => [e.type, e.taskId]),
          [
            ['task.created', 1],
            ['task.updated', 1],
          ],
        );

        await assert.rejects(showTask(app, 99), {
          name: 'NotFoundError',
          message: 'task T-99 not found: list tasks with `agentboard task list`',
        });
        await refusedWithoutChange(
          app,
          () => editTask(app, 99, { title: 'x' }),
          (e) => assert.ok(e instanceof NotFoundError),
        );
      });
    });

    test('task ids are T-1, T-2, ... and a refused add uses none', async () => {
      await withApp(async (app) => {
        assert.equal((await addTask(app, { title: 'one' })).id, 'T-1');
        const refusals: [() => Promise<unknown>, RegExp][] = [
          [() => addTask(app, { title: '   ' }), /a task needs a title/],
          [() => addTask(app, { title: 'x'.repeat(501) }), /the limit is 500/],
          [
            () => addTask(app, { title: 'x', status: 'in_progress' }),
            /cannot start as in_progress: use backlog, todo, review, done or blocked/,
          ],
          [
            () => addTask(app, { title: 'x', agent: 'nope' }),
            /agent "nope" is not configured: add it under agents in .*config\.yaml \(configured: bot, helper\)/,
          ],
          [() => addTask(app, { title: 'x', dependsOn: [1, 7] }), /task T-7 not found/],
          [() => addTask(app, { title: 'x', parent: 8 }), /task T-8 not found/],
        ];
        for (const [fn, message] of refusals) {
          await refusedWithoutChange(app, fn, (e) => assert.match(e.message, message));
        }
        assert.equal((await addTask(app, { title: 'two' })).id, 'T-2');
        assert.equal((await addTask(app, { title: 'three' })).id, 'T-3');
        // Concurrent adds (separate pool connections on PostgreSQL) still get distinct, dense ids.
        const many = await Promise.all(
          Array.from({ length: 20 }, (_, i) => addTask(app, { title: `c${i}` })),
        );
        assert.deepEqual(
          many.map((t) => t.id).sort((a, b) => Number(a.slice(2)) - Number(b.slice(2))),
          Array.from({ length: 20 }, (_, i) => formatTaskId(i + 4)),
        );
        await assertGapFree(app);
      });
    });

    test('positions: new cards go to the bottom; moveTask(..., position) reorders', async () => {
      await withApp(async (app) => {
        for (const title of ['A', 'B', 'C']) await addTask(app, { title });
        assert.deepEqual(await column(app, 'todo'), ['T-1', 'T-2', 'T-3']);
        await moveTask(app, 3, 'todo', 0);
        assert.deepEqual(await column(app, 'todo'), ['T-3', 'T-1', 'T-2']);
        await moveTask(app, 3, 'todo', 1);
        assert.deepEqual(await column(app, 'todo'), ['T-1', 'T-3', 'T-2']);
        await moveTask(app, 1, 'todo', 2);
        assert.deepEqual(await column(app, 'todo'), ['T-3', 'T-2', 'T-1']);
        await moveTask(app, 2, 'backlog');
        await moveTask(app, 1, 'backlog', 0);
        assert.deepEqual(await column(app, 'backlog'), ['T-1', 'T-2']);
        assert.deepEqual(await column(app, 'todo'), ['T-3']);
        await moveTask(app, 3, 'backlog', 99);
        assert.deepEqual(await column(app, 'backlog'), ['T-1', 'T-2', 'T-3']);
        await moveTask(app, 3, 'backlog', 1);
        assert.deepEqual(await column(app, 'backlog'), ['T-1', 'T-3', 'T-2']);

        for (const bad of [-1, 1.5, Number.NaN]) {
          await refusedWithoutChange(
            app,
            () => moveTask(app, 1, 'todo', bad),
            (e) => {
              assert.ok(e instanceof UsageError);
              assert.match(e.message, /^position must be a whole number >= 0, got /);
            },
          );
        }
        await refusedWithoutChange(
          app,
          () => moveTask(app, 1, 'in_progress'),
          (e) =>
            assert.equal(
              e.message,
              'T-1 is backlog: cannot move to in_progress. Allowed from backlog: move to todo, move to done, move to cancelled, start a run.',
            ),
        );

        const events = (await allEvents(app)).filter((e) => e.type === 'task.moved');
        assert.deepEqual(events.at(-1)?.data, {
          from: 'backlog',
          to: 'backlog',
          position: (await listTaskViews(app, { statuses: ['backlog'] }))[1]?.position,
        });
      });
    });

    test('positions: many inserts at one spot keep the order (renumbering the column)', async () => {
      await withApp(async (app) => {
        const expected: string[] = [];
        for (let i = 0; i < 50; i++) expected.push((await addTask(app, { title: `t${i}` })).id);
        // Move the bottom card to index 1, again and again: the gap halves each time.
        for (let i = 0; i < 60; i++) {
          const last = expected.pop() as string;
          expected.splice(1, 0, last);
          await moveTask(app, Number(last.slice(2)), 'todo', 1);
        }
        assert.deepEqual(await column(app, 'todo'), expected);
        const positions = (await listTaskViews(app, { statuses: ['todo'] })).map((t) => t.position);
        assert.equal(new Set(positions).size, positions.length, 'positions stay distinct');
      });
    });

    test('listing: filters, sorts and pagination', async () => {
      await withApp(async (app, clock) => {
        const specs = [
          { title: 'Fix Login page', priority: 'high', agent: 'bot', labels: ['auth'] },
          { title: 'Write docs', body: 'mention the LOGIN flow', priority: 'low' },
          { title: 'Discount 50% off', priority: 'urgent', labels: ['needs_review'] },
          { title: 'Discount 50 off', priority: 'medium', labels: ['needsXreview'] },
          { title: 'snake_case names', priority: 'medium', agent: 'helper', status: 'backlog' },
          { title: 'snakeXcase names', priority: 'low', status: 'review' },
          { title: 'ship it', priority: 'high', status: 'done' },
        ] as const;
        for (const s of specs) {
          clock.advance(1000);
          await addTask(app, { ...s, labels: 'labels' in s ? [...s.labels] : [] });
        }
        // T-1 (bot) autostarted: In Progress.
        assert.deepEqual(await ids(app, { statuses: ['in_progress'] }), ['T-1']);
        assert.deepEqual(await ids(app, { statuses: ['backlog', 'review'], sort: 'created' }), [
          'T-5',
          'T-6',
        ]);
        assert.deepEqual(await ids(app, { agent: 'helper' }), ['T-5']);
        assert.deepEqual(await ids(app, { label: 'auth' }), ['T-1']);
        assert.deepEqual(await ids(app, { label: 'needs_review' }), ['T-3'], '_ is literal');
        assert.deepEqual(
          await ids(app, { label: 'AUTH' }),
          ['T-1'],
          'labels ignore case, on both dialects',
        );
        assert.deepEqual(await ids(app, { label: 'aut' }), [], 'a label matches whole');
        assert.deepEqual(
          await ids(app, { search: 'login', sort: 'created' }),
          ['T-1', 'T-2'],
          'search covers title and body, ignoring case',
        );
        assert.deepEqual(await ids(app, { search: '50%' }), ['T-3'], '% is literal');
        assert.deepEqual(await ids(app, { search: 'snake_case' }), ['T-5'], '_ is literal');
        assert.deepEqual(await ids(app, { search: 'nothing like this' }), []);
        assert.deepEqual(await ids(app, { search: 'T-4' }), ['T-4'], 'an id finds its task');
        assert.deepEqual(await ids(app, { search: ' t4 ' }), ['T-4']);
        assert.deepEqual(await ids(app, { search: 'T-99' }), [], 'an id no task has');

        const all = Array.from({ length: 7 }, (_, i) => formatTaskId(i + 1));
        assert.deepEqual(await ids(app, { sort: 'created' }), all);
        assert.deepEqual(await ids(app, { sort: 'created', order: 'desc' }), [...all].reverse());
        assert.deepEqual(await ids(app, { sort: 'priority' }), [
          'T-3',
          'T-1',
          'T-7',
          'T-4',
          'T-5',
          'T-2',
          'T-6',
        ]);
        clock.advance(1000);
        await editTask(app, 2, { body: 'touched' });
        assert.equal((await ids(app, { sort: 'updated' })).at(-1), 'T-2');
        assert.equal((await ids(app, { sort: 'updated', order: 'desc' }))[0], 'T-2');

        // Board order: grouped by column, by position within a column.
        await addTask(app, { title: 'top of todo' });
        await moveTask(app, 8, 'todo', 0);
        const board = await listTaskViews(app, {});
        const todo = board.filter((t) => t.status === 'todo').map((t) => t.id);
        assert.deepEqual(todo, ['T-8', 'T-2', 'T-3', 'T-4']);
        const statuses = board.map((t) => t.status);
        assert.equal(
          new Set(statuses).size,
          statuses.filter((s, i) => s !== statuses[i - 1]).length,
          'each column is contiguous',
        );

        // Pagination: pages tile the whole listing, with and without a limit.
        for (const sort of ['board', 'created', 'priority', 'updated'] as const) {
          const full = await ids(app, { sort });
          const pages: string[] = [];
          for (let offset = 0; offset < 10; offset += 3) {
            pages.push(...(await ids(app, { sort, limit: 3, offset })));
          }
          assert.deepEqual(pages, full, sort);
          assert.deepEqual(await ids(app, { sort, offset: 5 }), full.slice(5), `${sort} offset`);
        }
      });
    });

    test('dependencies: stored, shown, and a cycle is refused naming it', async () => {
      await withApp(async (app) => {
        await addTask(app, { title: 'base' });
        await addTask(app, { title: 'middle', dependsOn: [1] });
        const top = await addTask(app, { title: 'top', dependsOn: [2, 1, 2] });
        assert.deepEqual([...top.dependsOn].sort(), ['T-1', 'T-2']);
        assert.deepEqual((await showTask(app, 3)).waitingOn, ['T-1', 'T-2']);

        await refusedWithoutChange(
          app,
          () => editTask(app, 1, { addDependsOn: [3] }),
          (e) => {
            assert.ok(e instanceof ConflictError);
            assert.equal(e.code, 'dependency_cycle');
            assert.match(e.message, /^that dependency would make a cycle: /);
            // A real cycle over the dependency edges plus the new one (2->1, 3->2, 3->1, 1->3).
            const cycle = e.details.cycle as string[];
            assert.equal(e.message, `that dependency would make a cycle: ${cycle.join(' -> ')}`);
            assertCycleOver(cycle, ['T-2>T-1', 'T-3>T-2', 'T-3>T-1', 'T-1>T-3']);
            assert.ok(e.message.includes('T-1 -> T-3') || e.message.includes('T-3 -> T-1'));
          },
        );
        await refusedWithoutChange(
          app,
          () => editTask(app, 2, { addDependsOn: [2] }),
          (e) => assert.equal(e.message, 'that dependency would make a cycle: T-2 -> T-2'),
        );
        await refusedWithoutChange(
          app,
          () => editTask(app, 2, { addDependsOn: [42] }),
          (e) => assert.ok(e instanceof NotFoundError),
        );

        await moveTask(app, 1, 'done');
        assert.deepEqual((await showTask(app, 3)).waitingOn, ['T-2']);
        const edited = await editTask(app, 3, { removeDependsOn: [1] });
        assert.deepEqual(edited.dependsOn, ['T-2']);
        // A longer cycle, the only one in the graph: 1 -> 4 -> 3 -> 2 -> 1.
        await addTask(app, { title: 'four', dependsOn: [3] });
        await refusedWithoutChange(
          app,
          () => editTask(app, 1, { addDependsOn: [4] }),
          (e) => {
            const cycle = e.details.cycle as string[];
            assert.equal(e.message, `that dependency would make a cycle: ${cycle.join(' -> ')}`);
            assert.equal(cycle.length, 5);
            assertCycleOver(cycle, ['T-1>T-4', 'T-4>T-3', 'T-3>T-2', 'T-2>T-1']);
          },
        );
        // Without 2 -> 1, the same edge closes nothing.
        await editTask(app, 2, { removeDependsOn: [1] });
        assert.deepEqual((await editTask(app, 1, { addDependsOn: [4] })).dependsOn, ['T-4']);

        // Subtasks: no parent cycles, and a parent is not done while a subtask is open.
        await editTask(app, 2, { parent: 3 });
        await refusedWithoutChange(
          app,
          () => editTask(app, 3, { parent: 2 }),
          (e) => {
            assert.equal(e.code, 'parent_cycle');
            assert.match(e.message, /T-2 cannot be the parent of T-3/);
          },
        );
        await refusedWithoutChange(
          app,
          () => moveTask(app, 3, 'done'),
          (e) => {
            assert.equal(e.code, 'open_subtasks');
            assert.match(e.message, /T-3 cannot be done while its subtasks are open: T-2 \(todo\)/);
          },
        );
        assert.deepEqual((await showTask(app, 3)).children, [
          { id: 'T-2', title: 'middle', status: 'todo' },
        ]);
      }, manual);
    });

    test('comments: stored in order, shown with the task, refused when empty', async () => {
      await withApp(async (app, clock) => {
        await addTask(app, { title: 'discuss' });
        const c1 = await commentOnTask(app, 1, 'ana', 'First thought');
        clock.advance(5);
        const c2 = await commentOnTask(app, 1, 'bo', 'Second\nline');
        assert.ok(c2.id > c1.id);
        const shown = await showTask(app, 1);
        assert.deepEqual(
          shown.comments.map((c) => [c.author, c.body]),
          [
            ['ana', 'First thought'],
            ['bo', 'Second\nline'],
          ],
        );
        assert.equal(shown.comments[1]?.createdAt, new Date(clock.now()).toISOString());
        await refusedWithoutChange(
          app,
          () => commentOnTask(app, 1, 'ana', '  \n'),
          (e) => assert.equal(e.message, 'a comment needs text'),
        );
        await refusedWithoutChange(
          app,
          () => commentOnTask(app, 5, 'ana', 'hello'),
          (e) => assert.ok(e instanceof NotFoundError),
        );
        const evs = (await allEvents(app)).filter((e) => e.type === 'task.commented');
        assert.deepEqual(
          evs.map((e) => e.data),
          [
            { commentId: c1.id, author: 'ana' },
            { commentId: c2.id, author: 'bo' },
          ],
        );
      });
    });

    test('events: ids 1..N, in commit order, paged by id, filtered by task', async () => {
      await withApp(async (app) => {
        await addTask(app, { title: 'a', agent: 'bot' }); // created + moved + run.queued
        await addTask(app, { title: 'b' });
        await moveTask(app, 2, 'backlog');
        await editTask(app, 2, { priority: 'low' });
        await assert.rejects(moveTask(app, 2, 'in_progress'), { name: 'IllegalTransitionError' });
        await commentOnTask(app, 2, 'x', 'y');
        await cancelTask(app, 1);
        await Promise.all(Array.from({ length: 10 }, (_, i) => addTask(app, { title: `p${i}` })));
        const n = await assertGapFree(app);
        const evs = await allEvents(app);
        assert.deepEqual(
          evs.slice(0, 10).map((e) => e.type),
          [
            'task.created',
            'task.moved',
            'run.queued',
            'task.created',
            'task.moved',
            'task.updated',
            'task.commented',
            'run.finished',
            'task.moved', // one move for one cancel
            'task.created',
          ],
        );
        assert.deepEqual(evs[8]?.data, { from: 'in_progress', to: 'cancelled' });
        for (let i = 1; i < evs.length; i++) {
          assert.ok((evs[i]?.createdAt ?? 0) >= (evs[i - 1]?.createdAt ?? 0));
        }
        const page = await readEvents(app.store.db, { after: 4, limit: 3 });
        assert.deepEqual(
          page.map((e) => e.id),
          [5, 6, 7],
        );
        const of2 = await readEvents(app.store.db, { after: 0, limit: 100, taskId: 2 });
        assert.ok(of2.length >= 4 && of2.every((e) => e.taskId === 2));
        assert.equal(n, evs.length);
      });
    });

    test('claimNext: highest priority first, then oldest; never before run_at', async () => {
      await withApp(async (app, clock) => {
        await addTask(app, { title: 'low', agent: 'bot', priority: 'low' });
        clock.advance(10);
        await addTask(app, { title: 'urgent', agent: 'bot', priority: 'urgent' });
        clock.advance(10);
        await addTask(app, { title: 'medium 1', agent: 'bot', priority: 'medium' });
        clock.advance(10);
        await addTask(app, { title: 'medium 2', agent: 'bot', priority: 'medium' });
        const order: number[] = [];
        for (;;) {
          const r = await claim(app, { bot: 10 }, 10);
          if (!r) break;
          order.push(r.task_id);
          assert.equal(r.state, 'claimed');
          assert.equal(r.worker_id, 'w1');
          assert.equal(r.lease_expires_at, clock.now() + 30_000);
          assert.deepEqual(
            await getRun(app.store.db, r.id),
            r,
            'the returned row is what is stored',
          );
        }
        assert.deepEqual(order, [2, 3, 4, 1]);

        // A retry is scheduled in the future: not claimable until then.
        const run = (await activeRunOfTask(app.store.db, 2)) as RunRow;
        await markRunning(app, run);
        assert.ok(await finishRun(app, run.id, run.lease_token, FAILED));
        const retry = (await activeRunOfTask(app.store.db, 2)) as RunRow;
        assert.ok(retry.run_at > clock.now());
        assert.equal(await claim(app, { bot: 10 }, 10), undefined);
        clock.t = retry.run_at - 1;
        assert.equal(await claim(app, { bot: 10 }, 10), undefined);
        clock.t = retry.run_at;
        assert.equal((await claim(app, { bot: 10 }, 10))?.id, retry.id);
      });
    });

    test('claimNext: per-agent limits, the global limit, and agents the worker lacks', async () => {
      await withApp(async (app) => {
        for (let i = 0; i < 3; i++) await addTask(app, { title: `bot ${i}`, agent: 'bot' });
        for (let i = 0; i < 2; i++) await addTask(app, { title: `helper ${i}`, agent: 'helper' });
        const claimed: RunRow[] = [];
        for (let r = await claim(app); r; r = await claim(app)) claimed.push(r);
        assert.deepEqual(claimed.map((r) => r.agent).sort(), ['bot', 'bot', 'helper']);
        // Free a bot slot: the third bot run becomes claimable, the helper stays at its limit.
        const first = claimed[0] as RunRow;
        await markRunning(app, first);
        assert.ok(await finishRun(app, first.id, first.lease_token, SUCCEEDED));
        const next = await claim(app, { bot: 2, helper: 1 }, 10);
        assert.equal(next?.agent, 'bot');
        assert.equal(await claim(app, { bot: 2, helper: 1 }, 10), undefined);
        // The global limit counts every agent's claimed and running runs.
        assert.equal(await claim(app, { bot: 9, helper: 9 }, 3), undefined);
        assert.equal((await claim(app, { bot: 9, helper: 9 }, 4))?.agent, 'helper');
        // A worker that cannot run an agent never claims its runs.
        await addTask(app, { title: 'bot again', agent: 'bot' });
        assert.equal(await claim(app, { helper: 9 }, 99), undefined);
        assert.equal((await claim(app, { bot: 9 }, 99))?.agent, 'bot');
      });
    });

    test('claimRuns: one batch fills the free slots in claim order, under every limit', async () => {
      await withApp(async (app) => {
        // Interleaved: bot, helper, bot, helper, ... with ascending priority for later tasks.
        for (let i = 0; i < 4; i++) {
          await addTask(app, {
            title: `bot ${i}`,
            agent: 'bot',
            priority: i === 3 ? 'urgent' : 'medium',
          });
          await addTask(app, { title: `helper ${i}`, agent: 'helper' });
        }
        const batch = await app.store.tx((tx) =>
          claimRuns(tx, { ...WORKER, agentLimits: { bot: 3, helper: 1 }, globalLimit: 10 }, 10),
        );
        // bot limit 3 (the priority-3 one first), helper limit 1: four in all.
        assert.deepEqual(
          batch.map((r) => [r.agent, r.task_id]),
          [
            ['bot', 7],
            ['bot', 1],
            ['helper', 2],
            ['bot', 3],
          ],
        );
        assert.equal(new Set(batch.map((r) => r.lease_token)).size, 4, 'a token each');
        assert.ok(batch.every((r) => r.state === 'claimed' && r.worker_id === WORKER.workerId));
        const busy = await listRuns(app.store.db, { states: ['claimed'] });
        assert.equal(busy.length, 4);
        // `max` and the global limit cap the batch too.
        const limits = { ...WORKER, agentLimits: { bot: 9, helper: 9 } };
        const one = await app.store.tx((tx) => claimRuns(tx, { ...limits, globalLimit: 10 }, 1));
        assert.deepEqual(
          one.map((r) => r.task_id),
          [4],
          'the oldest left (bot 5 came after helper 4)',
        );
        const upTo6 = await app.store.tx((tx) => claimRuns(tx, { ...limits, globalLimit: 6 }, 9));
        assert.deepEqual(
          upTo6.map((r) => r.task_id),
          [5],
          'five busy and a global limit of 6: room for one',
        );
        assert.deepEqual(
          await app.store.tx((tx) => claimRuns(tx, { ...limits, globalLimit: 6 }, 9)),
          [],
        );
      });
    });

    test('txGrouped: writes of the same moment commit together; one that throws is undone alone', async () => {
      await withApp(async (app) => {
        // Each write is told apart by the field its task.updated event names.
        const label = (e: { data: Record<string, unknown> }) =>
          String((e.data.fields as string[])[0]);
        const seen: string[] = [];
        const onEvents = (events: { type: string; data: Record<string, unknown> }[]) => {
          for (const e of events) seen.push(label(e));
        };
        app.store.changes.on('events', onEvents);
        const write = (name: string, fail = false) =>
          app.store.txGrouped(async (tx) => {
            await appendEvent(tx, 'task.updated', { data: { fields: [name] } });
            if (fail) throw new UsageError(`${name} refused`);
            return name;
          });
        const results = await Promise.allSettled([
          write('test.one'),
          write('test.bad', true),
          write('test.two'),
        ]);
        app.store.changes.off('events', onEvents);
        assert.deepEqual(
          results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message)),
          ['test.one', 'test.bad refused', 'test.two'],
        );
        const stored = await readEvents(app.store.db, { after: 0, limit: 1000 });
        const types = stored.map(label).filter((t) => t.startsWith('test.'));
        assert.deepEqual(types, ['test.one', 'test.two'], 'the refused write left nothing');
        assert.deepEqual(seen, ['test.one', 'test.two'], 'only committed events are announced');
        // Ids stay gap-free across the undone write.
        const ids = stored.map((e) => e.id);
        assert.deepEqual(
          ids,
          ids.map((_, i) => (ids[0] as number) + i),
        );
      });
    });

    test('claimNext: a run waits until every dependency of its task is done', async () => {
      await withApp(async (app) => {
        await addTask(app, { title: 'prerequisite' });
        await addTask(app, { title: 'after (manual)', agent: 'bot', dependsOn: [1] });
        await addTask(app, { title: 'after (autostart)', agent: 'bot', dependsOn: [1] });
        assert.equal((await showTask(app, 3)).status, 'todo', 'no autostart while waiting');
        const manualRun = await startRun(app, 2);
        assert.equal(manualRun.state, 'queued');
        assert.equal(await claim(app), undefined);
        await moveTask(app, 1, 'done');
        // Done released both: T-2's queued run, and T-3 autostarted.
        assert.equal((await showTask(app, 3)).status, 'in_progress');
        const got = [await claim(app), await claim(app)].map((r) => r?.task_id).sort();
        assert.deepEqual(got, [2, 3]);
      });
    });

    test('claimNext: concurrent claims never exceed the limits or claim a run twice', async () => {
      await withApp(async (app) => {
        for (let i = 0; i < 8; i++) await addTask(app, { title: `t${i}`, agent: 'bot' });
        const results = await Promise.all(
          Array.from({ length: 8 }, () => claim(app, { bot: 3 }, 8).catch((e: Error) => e)),
        );
        const rows = results.filter((r): r is RunRow => !!r && !(r instanceof Error));
        const errors = results.filter((r) => r instanceof Error);
        assert.deepEqual(errors, []);
        assert.equal(new Set(rows.map((r) => r.id)).size, rows.length, 'no run claimed twice');
        const busy = await listRuns(app.store.db, { states: ['claimed', 'running'] });
        assert.equal(busy.length, rows.length);
        assert.ok(busy.length <= 3, `${busy.length} runs claimed with an agent limit of 3`);
        assert.equal(busy.length, 3);
      });
    });

    test('fencing: a stale lease token cannot write; tokens only grow', async () => {
      await withApp(async (app) => {
        await addTask(app, { title: 'a', agent: 'bot' });
        await addTask(app, { title: 'b', agent: 'bot' });
        const r1 = (await claim(app)) as RunRow;
        const r2 = (await claim(app)) as RunRow;
        const t1 = r1.lease_token as number;
        const t2 = r2.lease_token as number;
        assert.ok(t2 > t1, 'a later claim gets a larger fencing token');

        const before = await getRun(app.store.db, r1.id);
        for (const stale of [t1 - 1, t1 + 1000, t2]) {
          const ok = await app.store.tx((tx) =>
            updateRunFenced(tx, r1.id, stale, {
              state: stepRun('claimed', { type: 'start' }),
              pid: 1,
            }),
          );
          assert.equal(ok, false, `token ${stale} must be fenced off`);
        }
        assert.deepEqual(await getRun(app.store.db, r1.id), before);
        assert.equal(await finishRun(app, r1.id, t1 + 1000, SUCCEEDED), false);
        assert.deepEqual(await getRun(app.store.db, r1.id), before);

        const kept = await app.store.tx((tx) =>
          renewLeases(
            tx,
            [
              { id: r1.id, token: t1 },
              { id: r2.id, token: t1 },
            ],
            60_000,
          ),
        );
        assert.deepEqual([...kept], [r1.id]);

        await markRunning(app, r1);
        const events = await lastEventId(app.store.db);
        assert.ok(await finishRun(app, r1.id, t1, SUCCEEDED));
        // Once ended, even the right token cannot write or end it again.
        assert.equal(await app.store.tx((tx) => updateRunFenced(tx, r1.id, t1, { pid: 2 })), false);
        const snap = await snapshot(app);
        assert.equal(await finishRun(app, r1.id, t1, FAILED), false);
        assert.equal(await finishRun(app, r1.id, null, FAILED), false);
        assert.equal(await snapshot(app), snap);
        assert.ok((await lastEventId(app.store.db)) > events);
      });
    });

    test('a step is written only from the state it was taken from (a stale view changes nothing)', async () => {
      await withApp(async (app) => {
        await addTask(app, { title: 'a', agent: 'bot' });
        const run = (await claim(app)) as RunRow;
        const token = run.lease_token as number;
        await markRunning(app, run);
        const before = await getRun(app.store.db, run.id);
        // A worker still thinking the run is claimed: its start is refused, fenced or not.
        const stale = stepRun('claimed', { type: 'start' });
        assert.equal(
          await app.store.tx((tx) => updateRunFenced(tx, run.id, token, { state: stale, pid: 9 })),
          false,
        );
        await assert.rejects(
          app.store.tx((tx) => updateRun(tx, run.id, { state: stale, pid: 9 })),
          (e: unknown) => e instanceof RunMovedError && /is no longer claimed/.test(e.message),
        );
        assert.deepEqual(await getRun(app.store.db, run.id), before);
        // From the state it is really in, the step applies.
        await app.store.tx((tx) =>
          updateRun(tx, run.id, { state: stepRun('running', { type: 'cancel' }) }),
        );
        assert.equal((await getRun(app.store.db, run.id))?.state, 'cancelled');
      });
    });

    test('a task status step is written only from the status it was taken from', async () => {
      await withApp(async (app) => {
        await addTask(app, { title: 'a', status: 'backlog' });
        const before = await getTask(app.store.db, 1);
        assert.equal(before?.status, 'backlog');
        // A writer still thinking the card is in Todo: its move is refused and nothing changes.
        await assert.rejects(
          app.store.tx((tx) =>
            updateTask(tx, 1, { status: stepTask('todo', { type: 'move', to: 'done' }) }),
          ),
          (e: unknown) => e instanceof TaskMovedError && /T-1 is no longer todo/.test(e.message),
        );
        assert.deepEqual(await getTask(app.store.db, 1), before);
        await app.store.tx((tx) =>
          updateTask(tx, 1, { status: stepTask('backlog', { type: 'move', to: 'done' }) }),
        );
        assert.equal((await getTask(app.store.db, 1))?.status, 'done');
      });
    });

    test('the database itself allows one active run per task', async () => {
      await withApp(async (app) => {
        await addTask(app, { title: 'a', agent: 'bot' });
        const active = (await activeRunOfTask(app.store.db, 1)) as RunRow;
        for (const state of ACTIVE_RUN_STATES) {
          await assert.rejects(
            app.store.tx((tx) =>
              insertRun(tx, { ...active, id: app.newRunId(), state, previous_run_id: null }),
            ),
            (e: unknown) => {
              assert.ok(!(e instanceof AgentboardError), 'the unique index, not the services');
              assert.match(String((e as Error).message), /unique|UNIQUE/);
              return true;
            },
          );
        }
        // Terminal runs do not count.
        await app.store.tx((tx) =>
          insertRun(tx, { ...active, id: app.newRunId(), state: 'failed' }),
        );
        await refusedWithoutChange(
          app,
          () => startRun(app, 1),
          (e) => {
            assert.equal(e.code, 'run_active');
            assert.match(
              e.message,
              new RegExp(
                `^T-1 already has an active run ${active.id} \\(queued\\): stop it first with \`agentboard stop ${active.id}\`$`,
              ),
            );
          },
        );
      });
    });

    test('retries through finishRun: attempt+1 after a backoff, Blocked after max_attempts', async () => {
      await withApp(async (app, clock) => {
        await addTask(app, { title: 'flaky', agent: 'bot' });
        // backoff: base 1s, factor 2, jitter 0.5, random 0.5 -> 750 ms, then 1500 ms.
        const delays = [750, 1500];
        let run = (await activeRunOfTask(app.store.db, 1)) as RunRow;
        for (let attempt = 1; attempt <= 3; attempt++) {
          assert.equal(run.attempt, attempt);
          assert.equal(run.max_attempts, 3);
          clock.t = Math.max(clock.t, run.run_at);
          const claimed = (await claim(app)) as RunRow;
          assert.equal(claimed.id, run.id);
          await markRunning(app, claimed);
          clock.advance(100);
          assert.ok(await finishRun(app, run.id, claimed.lease_token, FAILED));
          const ended = (await getRun(app.store.db, run.id)) as RunRow;
          assert.equal(ended.state, 'failed');
          assert.equal(ended.exit_code, 1);
          assert.equal(ended.error_summary, 'exit 1\nboom');
          assert.equal(ended.ended_at, clock.now());
          assert.equal(ended.lease_expires_at, null);
          const next = await activeRunOfTask(app.store.db, 1);
          if (attempt < 3) {
            assert.ok(next, `attempt ${attempt} is retried`);
            assert.equal(next.state, 'queued');
            assert.equal(next.attempt, attempt + 1);
            assert.equal(next.trigger, 'retry');
            assert.equal(next.previous_run_id, run.id);
            assert.equal(next.prompt, run.prompt);
            assert.equal(next.run_at, clock.now() + (delays[attempt - 1] as number));
            assert.equal((await showTask(app, 1)).status, 'in_progress');
            run = next;
          } else {
            assert.equal(next, undefined, 'no retry after max_attempts');
          }
        }
        const task = await showTask(app, 1);
        assert.equal(task.status, 'blocked');
        // The card says why: the classified exit, then the tail of stderr.
        assert.equal(task.statusReason, 'retries exhausted (3 of 3): exit 1\nboom');
        assert.deepEqual(
          task.runs.map((r) => [r.attempt, r.state]),
          [
            [1, 'failed'],
            [2, 'failed'],
            [3, 'failed'],
          ],
        );
        const last = (await allEvents(app)).at(-1);
        assert.equal(last?.type, 'task.moved');
        assert.deepEqual(last?.data, {
          from: 'in_progress',
          to: 'blocked',
          reason: 'retries exhausted (3 of 3): exit 1\nboom',
        });
        await assertGapFree(app);
      });
    });

    test('a cancelled task stays cancelled when its live run is also stopped', async () => {
      await withApp(async (app) => {
        await addTask(app, { title: 'x', agent: 'bot' });
        const run = (await claim(app)) as RunRow;
        await markRunning(app, run);
        assert.equal((await cancelTask(app, 1)).status, 'in_progress', 'waits for the agent');
        await stopRun(app, 'T-1');
        const stopped = { ...FAILED, state: 'cancelled' as const, reason: 'stopped by user' };
        assert.ok(await finishRun(app, run.id, run.lease_token, { ...stopped, retryable: false }));
        assert.equal((await showTask(app, 1)).status, 'cancelled');
      });
    });

    test('deleting a task removes the output its runs shipped to the database', async () => {
      await withApp(async (app) => {
        await addTask(app, { title: 'shipped', agent: 'bot' });
        const run = (await claim(app)) as RunRow;
        await markRunning(app, run);
        const shipped = await app.store.tx((tx) =>
          insertOutputChunks(tx, run.id, run.lease_token as number, [
            { stream: 'stdout', offset: 0, data: Buffer.from('hello\n') },
          ]),
        );
        assert.ok(shipped);
        assert.ok(await finishRun(app, run.id, run.lease_token, SUCCEEDED));
        // The run_output foreign key refused this on PostgreSQL.
        await deleteTask(app, run.task_id);
        const left = await app.store.db.selectFrom('run_output').selectAll().execute();
        assert.equal(left.length, 0);
      });
    });

    test('finishRun: a non-retryable failure blocks at once; success follows the board policy', async () => {
      await withApp(async (app) => {
        await addTask(app, { title: 'missing cli', agent: 'bot', maxAttempts: 9 });
        await addTask(app, { title: 'works', agent: 'bot' });
        await addTask(app, { title: 'verified', agent: 'helper', verifyCommand: 'true' });
        const r1 = (await claim(app)) as RunRow;
        const reason = 'agent CLI `true` is not installed: install it or set agents.bot.command';
        assert.equal(r1.max_attempts, 9, 'the task overrides defaults.max_attempts');
        assert.ok(
          await finishRun(app, r1.id, r1.lease_token, {
            ...FAILED,
            exitCode: null,
            reason,
            retryable: false,
            stderrTail: '',
          }),
        );
        const t1 = await showTask(app, 1);
        assert.equal(t1.status, 'blocked');
        assert.equal(t1.statusReason, reason);
        assert.equal(t1.runs[0]?.errorSummary, reason);

        const r2 = (await claim(app)) as RunRow;
        await markRunning(app, r2);
        assert.ok(await finishRun(app, r2.id, r2.lease_token, SUCCEEDED));
        assert.equal((await showTask(app, 2)).status, 'review');

        const r3 = (await claim(app)) as RunRow;
        await markRunning(app, r3);
        assert.ok(
          await finishRun(app, r3.id, r3.lease_token, {
            ...SUCCEEDED,
            verified: true,
            verify: { exitCode: 0, output: 'ok' },
          }),
        );
        const t3 = await showTask(app, 3);
        assert.equal(t3.status, 'done');
        assert.deepEqual(t3.runs[0]?.verify, { exitCode: 0, output: 'ok' });
        assert.equal(t3.runs[0]?.errorSummary, null);
      });
    });
  });
}
