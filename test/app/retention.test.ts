/**
 * Retention on a real board, SQLite and PostgreSQL: gc prunes the board
 * events, bus messages, transcript events and shipped output of finished
 * tasks past the retention, and nothing of an active run or of a task that
 * is not finished (whatever its age). Its report equals the row counts'
 * drop. A removed log or transcript answers 410 `output_removed` ("removed by
 * gc on <date>") on every path: the log range, the transcript, the live log
 * stream and `agentboard logs`. A feed client resuming from a pruned event id
 * gets a `gc.pruned` event telling it to reload, not silence.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { App } from '../../src/app/context.js';
import { type GcReport, runGc } from '../../src/app/gc.js';
import { postMessage } from '../../src/app/messages.js';
import { startRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import { runDir } from '../../src/config/home.js';
import type { RunState } from '../../src/domain/run.js';
import type { TaskStatus } from '../../src/domain/task.js';
import { PRUNED_TABLES, type RowCounts } from '../../src/store/prune.js';
import { listeningBoard, SseClient } from '../server/sse-helpers.js';
import { type BoardLocation, postgresBoard, sqliteBoard, testConfig } from '../support/board.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { runCli } from '../support/server.js';

const DAY = 86_400_000;
const WEEK = 7 * DAY;
/** Big enough that pruning frees whole pages, so returning space can be seen. */
const CHUNK = Buffer.alloc(64 * 1024, 'x');

interface Made {
  name: string;
  taskId: number;
  runIds: string[];
}

/**
 * A task with runs in the given states, each with a message, transcript
 * events, shipped output and a log file; `old` backdates all of it (and the
 * task) by ten days.
 */
async function makeTask(
  app: App,
  name: string,
  o: { runs: RunState[]; status: TaskStatus; old: boolean },
): Promise<Made> {
  const db = app.store.db;
  const t = await addTask(app, { title: name, agent: 'bot' });
  const taskId = Number(t.id.slice(2));
  const runIds: string[] = [];
  for (const state of o.runs) {
    const run = await startRun(app, taskId);
    runIds.push(run.id);
    await postMessage(app, { runId: run.id, type: 'PROGRESS', author: 'bot', body: name });
    await db
      .insertInto('run_events')
      .values(
        [1, 2, 3].map((seq) => ({
          run_id: run.id,
          seq,
          type: 'message',
          data: JSON.stringify({ type: 'message', role: 'assistant', text: `${name} ${seq}` }),
          created_at: Date.now(),
        })),
      )
      .execute();
    await db
      .insertInto('run_output')
      .values(
        [0, 1, 2].map((i) => ({
          run_id: run.id,
          stream: 'stdout',
          offset: i * CHUNK.length,
          data: CHUNK,
          created_at: Date.now(),
        })),
      )
      .execute();
    const dir = runDir(app.paths, run.id);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'stdout.log'), `log of ${name}\n`);
    if (state !== 'queued') {
      const ended = state !== 'running';
      await db
        .updateTable('runs')
        .set({ state, ...(ended ? { ended_at: Date.now(), exit_code: 0 } : {}) })
        .where('id', '=', run.id)
        .execute();
      // The next run starts from Review.
      if (ended)
        await db.updateTable('tasks').set({ status: 'review' }).where('id', '=', taskId).execute();
    }
  }
  await db.updateTable('tasks').set({ status: o.status }).where('id', '=', taskId).execute();
  if (o.old) {
    const at = Date.now() - 10 * DAY;
    await db.updateTable('tasks').set({ updated_at: at }).where('id', '=', taskId).execute();
    await db.updateTable('events').set({ created_at: at }).where('task_id', '=', taskId).execute();
    await db
      .updateTable('messages')
      .set({ created_at: at })
      .where('task_id', '=', taskId)
      .execute();
    if (runIds.length > 0) {
      await db
        .updateTable('runs')
        .set({ created_at: at, ended_at: at })
        .where('id', 'in', runIds)
        .where('ended_at', 'is not', null)
        .execute();
      await db.updateTable('runs').set({ created_at: at }).where('id', 'in', runIds).execute();
      for (const table of ['run_events', 'run_output'] as const)
        await db.updateTable(table).set({ created_at: at }).where('run_id', 'in', runIds).execute();
    }
  }
  return { name, taskId, runIds };
}

async function counts(app: App): Promise<RowCounts> {
  const out = {} as RowCounts;
  for (const table of PRUNED_TABLES) {
    const r = await app.store.db
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirst();
    out[table] = Number(r?.n ?? 0);
  }
  return out;
}

/** Every row of these tasks and runs in the pruned tables, as text: equal means untouched. */
async function rowsOf(app: App, made: Made[]): Promise<string> {
  const db = app.store.db;
  const taskIds = made.map((m) => m.taskId);
  const runIds = made.flatMap((m) => m.runIds);
  const events = await db
    .selectFrom('events')
    .selectAll()
    .where('task_id', 'in', taskIds)
    .orderBy('id')
    .execute();
  const messages = await db
    .selectFrom('messages')
    .selectAll()
    .where('task_id', 'in', taskIds)
    .orderBy('id')
    .execute();
  const none = ['-'];
  const transcript = await db
    .selectFrom('run_events')
    .selectAll()
    .where('run_id', 'in', runIds.length > 0 ? runIds : none)
    .orderBy('run_id')
    .orderBy('seq')
    .execute();
  const output = await db
    .selectFrom('run_output')
    .select(['run_id', 'stream', 'offset', 'created_at'])
    .where('run_id', 'in', runIds.length > 0 ? runIds : none)
    .orderBy('run_id')
    .orderBy('offset')
    .execute();
  return JSON.stringify({ events, messages, transcript, output });
}

interface Fixture {
  pruned: Made[];
  kept: Made[];
  /** A run still going (its task has old rows too). */
  activeRun: string;
  /** A finished run too recent to prune. */
  recentRun: string;
}

async function build(app: App): Promise<Fixture> {
  const pruned = [
    await makeTask(app, 'old done', { runs: ['failed', 'succeeded'], status: 'done', old: true }),
    await makeTask(app, 'old cancelled', { runs: ['failed'], status: 'cancelled', old: true }),
    await makeTask(app, 'old blocked', { runs: ['lost'], status: 'blocked', old: true }),
    await makeTask(app, 'old done, never ran', { runs: [], status: 'done', old: true }),
  ];
  const active = await makeTask(app, 'old, running again', {
    runs: ['succeeded', 'running'],
    status: 'in_progress',
    old: true,
  });
  const recent = await makeTask(app, 'recently done', {
    runs: ['succeeded'],
    status: 'done',
    old: false,
  });
  // Untouched for long, but a run of it ended lately: its last activity is recent.
  const lateRun = await makeTask(app, 'old, run ended lately', {
    runs: ['succeeded'],
    status: 'done',
    old: true,
  });
  await app.store.db
    .updateTable('runs')
    .set({ ended_at: Date.now() - DAY })
    .where('id', 'in', lateRun.runIds)
    .execute();
  const kept = [
    active,
    recent,
    lateRun,
    // Finished by its status, but a run is queued: never touched.
    await makeTask(app, 'old done, run queued', { runs: ['queued'], status: 'done', old: true }),
    // Old but not finished.
    await makeTask(app, 'old, in review', { runs: ['succeeded'], status: 'review', old: true }),
    await makeTask(app, 'old, in todo', { runs: [], status: 'todo', old: true }),
  ];
  return {
    pruned,
    kept,
    activeRun: active.runIds[1] as string,
    recentRun: recent.runIds[0] as string,
  };
}

const today = () => new Date().toISOString().slice(0, 10);

async function retentionScenario(
  location: BoardLocation,
  gc: (app: App, dryRun: boolean) => Promise<GcReport>,
  env: Record<string, string>,
): Promise<void> {
  const b = await listeningBoard({
    board: location,
    config: testConfig({ board: { autostart: false, max_concurrency: 3 } }),
  });
  const app = b.app;
  try {
    const f = await build(app);
    const keptBefore = await rowsOf(app, f.kept);
    const prunedRuns = f.pruned.flatMap((m) => m.runIds);
    const prunedEvent = (
      await app.store.db
        .selectFrom('events')
        .select('id')
        .where('task_id', '=', f.pruned[0]?.taskId ?? 0)
        .orderBy('id')
        .executeTakeFirstOrThrow()
    ).id;

    const c0 = await counts(app);
    const dry = await gc(app, true);
    assert.deepEqual(await counts(app), c0, 'a dry run prunes nothing');

    const report = await gc(app, false);
    const c1 = await counts(app);
    // The report is exactly the drop in each table (gc.pruned is the one event gc adds).
    assert.deepEqual(
      {
        events: c0.events - c1.events + 1,
        messages: c0.messages - c1.messages,
        run_events: c0.run_events - c1.run_events,
        run_output: c0.run_output - c1.run_output,
      },
      report.rows,
    );
    assert.deepEqual(dry.rows, report.rows);
    assert.equal(dry.outputRemoved, report.outputRemoved);
    for (const t of PRUNED_TABLES) assert.ok(report.rows[t] > 0, `${t} pruned`);
    assert.equal(report.rows.run_events, prunedRuns.length * 3);
    assert.equal(report.rows.run_output, prunedRuns.length * 3);
    assert.equal(report.outputRemoved, prunedRuns.length);
    // Nothing of the pruned tasks is left; everything of the others is intact.
    assert.equal(
      await rowsOf(app, f.pruned),
      JSON.stringify({ events: [], messages: [], transcript: [], output: [] }),
    );
    assert.equal(await rowsOf(app, f.kept), keptBefore);
    // Their run directories went too, and the report counts their bytes.
    assert.deepEqual(report.removed.map((i) => i.id).sort(), [...prunedRuns].sort());
    assert.ok(report.removed.every((i) => i.bytes > 0 && !fs.existsSync(i.path)));
    assert.equal(
      report.bytesFreed,
      report.removed.reduce((s, i) => s + i.bytes, 0),
    );
    const marked = await app.store.db
      .selectFrom('runs')
      .select(['id', 'output_removed_at'])
      .where('output_removed_at', 'is not', null)
      .execute();
    assert.deepEqual(marked.map((r) => r.id).sort(), [...prunedRuns].sort());
    if (location.dialect === 'sqlite') {
      assert.equal(report.space?.mode, 'full', JSON.stringify(report.space));
      assert.ok(
        (report.space?.bytesAfter ?? 0) < (report.space?.bytesBefore ?? 0),
        JSON.stringify(report.space),
      );
    } else {
      assert.equal(report.space?.mode, 'autovacuum');
    }

    // A removed log, transcript or live log says so, with the date.
    const gone = prunedRuns[0] as string;
    const removed = new RegExp(`run ${gone} was removed by gc on ${today()}`);
    for (const [url, what] of [
      [`/api/v1/runs/${gone}/logs`, 'output'],
      [`/api/v1/runs/${gone}/logs?stream=stderr&offset=0`, 'output'],
      [`/api/v1/runs/${gone}/events`, 'transcript'],
    ] as const) {
      const r = await fetch(b.url + url);
      assert.equal(r.status, 410, url);
      const body = (await r.json()) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'output_removed', url);
      assert.match(body.error.message, removed, url);
      assert.match(body.error.message, new RegExp(`^the ${what}`), url);
    }
    const stream = await fetch(`${b.url}/api/v1/runs/${gone}/logs/stream`);
    assert.equal(stream.status, 410);
    assert.equal(
      ((await stream.json()) as { error: { code: string } }).error.code,
      'output_removed',
    );
    // Kept logs still read.
    for (const run of [f.recentRun, f.activeRun]) {
      const r = await fetch(`${b.url}/api/v1/runs/${run}/logs`);
      assert.equal(r.status, 200, run);
      assert.match(await r.text(), /^log of /);
    }

    const cli = await runCli(app.paths.home, ['logs', gone], { env });
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, removed);
    assert.equal(cli.stdout, '');
    const kept = await runCli(app.paths.home, ['logs', f.recentRun], { env });
    assert.equal(kept.code, 0, kept.stderr);
    assert.equal(kept.stdout, 'log of recently done\n');

    // A feed client resuming from a pruned id is told to reload.
    const feed = await SseClient.connect(`${b.url}/api/v1/events/stream`, {
      'last-event-id': String(prunedEvent),
    });
    try {
      await feed.until('the gc.pruned event', () =>
        feed.messages.some((m) => m.event === 'gc.pruned'),
      );
      const m = feed.messages.find((x) => x.event === 'gc.pruned');
      const data = JSON.parse(m?.data ?? '{}') as { data: { eventsThrough: number } };
      assert.ok(data.data.eventsThrough >= Number(prunedEvent));
      assert.ok(
        feed.messages.every((x) => x.id === undefined || Number(x.id) > Number(prunedEvent)),
      );
    } finally {
      feed.close();
    }

    // Once pruned, a later gc finds nothing more.
    const again = await gc(app, false);
    assert.deepEqual(again.rows, { events: 0, messages: 0, run_events: 0, run_output: 0 });
    assert.equal(again.outputRemoved, 0);
    assert.equal(again.space, null);

    if (location.dialect === 'sqlite') {
      // The file is incremental now: the next prune returns pages in steps, no VACUUM.
      const more = await makeTask(app, 'another old one', {
        runs: ['succeeded'],
        status: 'done',
        old: true,
      });
      const next = await gc(app, false);
      assert.equal(next.outputRemoved, 1);
      assert.deepEqual(
        next.removed.map((i) => i.id),
        more.runIds,
      );
      assert.equal(next.space?.mode, 'incremental', JSON.stringify(next.space));
      assert.ok((next.space?.bytesAfter ?? 0) < (next.space?.bytesBefore ?? 0));
    }
  } finally {
    await b.close();
  }
}

describe('retention on SQLite', () => {
  it('prunes finished tasks only, reports the drop, and says "removed by gc" (CLI gc)', {
    timeout: 120_000,
  }, async () => {
    const location = sqliteBoard();
    let home = '';
    await retentionScenario(
      location,
      async (app, dryRun) => {
        home = app.paths.home;
        const args = ['gc', '--json', '--older-than', '7d', ...(dryRun ? ['--dry-run'] : [])];
        const r = await runCli(home, args);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout) as GcReport;
      },
      {},
    );
    // The human report names the rows and the space returned.
    const human = await runCli(home, ['gc', '--older-than', '7d', '--dry-run']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(
      human.stdout,
      /would prune rows: events 0, messages 0, run_events 0, run_output 0/,
    );
  });
});

describe('retention on PostgreSQL', () => {
  let pg: TestPostgres;
  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.close();
  });

  it('prunes finished tasks only, reports the drop, and says "removed by gc"', {
    timeout: 120_000,
  }, async () => {
    const url = await pg.createDatabase();
    await retentionScenario(
      postgresBoard(url),
      (app, dryRun) => runGc(app, { olderThanMs: WEEK, keepFailed: false, dryRun }),
      { AGENTBOARD_DATABASE_URL: url },
    );
  });
});
