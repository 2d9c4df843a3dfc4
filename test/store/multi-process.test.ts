/**
 * Several OS processes on one SQLite file: concurrent writers, concurrent
 * first opens, and a writer SIGKILLed mid-loop. The children run
 * fixtures/add-tasks.js (compiled with the tests).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import SqliteDatabase from 'better-sqlite3';
import { openApp } from '../../src/app/context.js';
import { addTask } from '../../src/app/tasks.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { tempDir } from '../support/tmp.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/add-tasks.js', import.meta.url));

interface Child {
  proc: ChildProcess;
  lines: string[];
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves once a line satisfying `pred` has been printed. */
  waitForLine(pred: (line: string) => boolean, timeoutMs?: number): Promise<void>;
}

function spawnChild(home: string, env: Record<string, string>): Child {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, AGENTBOARD_HOME: home, ...env };
  delete childEnv.AGENTBOARD_DATABASE_URL;
  const proc = spawn(process.execPath, [FIXTURE], {
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  let err = '';
  const waiters: (() => void)[] = [];
  proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
    for (const w of waiters.splice(0)) w();
  });
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  // 'close' (not 'exit'): every byte of stdout has been read by then.
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once('close', (code, signal) => resolve({ code, signal })),
  );
  return {
    proc,
    lines,
    stderr: () => err,
    exit,
    async waitForLine(pred, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!lines.some(pred)) {
        if (proc.exitCode !== null) throw new Error(`child exited early: ${err}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for output; stderr: ${err}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
  };
}

function openRaw(home: string): SqliteDatabase.Database {
  return new SqliteDatabase(join(home, 'agentboard.db'));
}

function taskIds(db: SqliteDatabase.Database): number[] {
  return (db.prepare('select id from tasks order by id').all() as { id: number }[]).map((r) =>
    Number(r.id),
  );
}

function eventIds(db: SqliteDatabase.Database): number[] {
  return (db.prepare('select id from events order by id').all() as { id: number }[]).map((r) =>
    Number(r.id),
  );
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

test('two processes add 1,000 tasks each into one SQLite file at the same moment', {
  timeout: 120_000,
}, async () => {
  const home = tempDir('agentboard-mp-');
  // The board exists first (as after `agentboard init`); both children open it, then wait.
  const setup = await openApp({ env: { AGENTBOARD_HOME: home } });
  await setup.store.close();
  const barrier = join(home, 'go');
  const children = ['alpha', 'beta'].map((name) =>
    spawnChild(home, { AB_FIXTURE: 'batch', AB_NAME: name, AB_COUNT: '1000', AB_BARRIER: barrier }),
  );
  await Promise.all(children.map((c) => c.waitForLine((l) => l === 'ready')));
  writeFileSync(barrier, '');
  const exits = await Promise.all(children.map((c) => c.exit));

  for (const [i, c] of children.entries()) {
    assert.equal(c.stderr(), '', `child ${i} printed an error`);
    assert.deepEqual(exits[i], { code: 0, signal: null });
    assert.deepEqual(
      c.lines.map((l) => l.split(' ')[0]),
      ['ready', 'start', 'done'],
    );
  }
  // Both were writing at the same time: each started before the other finished.
  const at = (c: Child, what: string) =>
    Number(c.lines.find((l) => l.startsWith(`${what} `))?.split(' ')[1]);
  const [a, b] = children as [Child, Child];
  assert.ok(
    at(a, 'start') < at(b, 'done') && at(b, 'start') < at(a, 'done'),
    'the two writers overlapped',
  );
  const db = openRaw(home);
  try {
    assert.deepEqual(taskIds(db), range(2000), 'ids are unique and exactly 1..2000');
    const perChild = db.prepare('select body, count(*) as n from tasks group by body').all();
    assert.deepEqual(perChild, [
      { body: 'alpha', n: 1000 },
      { body: 'beta', n: 1000 },
    ]);
    // Each child's own tasks were committed in its order; the two interleave.
    for (const name of ['alpha', 'beta']) {
      const titles = db.prepare('select title from tasks where body = ? order by id').all(name) as {
        title: string;
      }[];
      assert.deepEqual(
        titles.map((t) => t.title),
        range(1000).map((i) => `${name} ${i - 1}`),
      );
    }
    assert.deepEqual(eventIds(db), range(2000), 'one event each, ids 1..2000 with no gap');
    const counter = db.prepare("select value from counters where name = 'task'").get() as {
      value: number;
    };
    assert.equal(Number(counter.value), 2000);
  } finally {
    db.close();
  }
});

test('four processes opening a fresh board at the same moment all migrate and write safely', {
  timeout: 60_000,
}, async () => {
  const home = tempDir('agentboard-mp-');
  const barrier = join(home, 'go');
  const children = ['a', 'b', 'c', 'd'].map((name) =>
    spawnChild(home, {
      AB_FIXTURE: 'batch',
      AB_NAME: name,
      AB_COUNT: '25',
      AB_BARRIER: barrier,
      AB_OPEN_LATE: '1',
    }),
  );
  await Promise.all(children.map((c) => c.waitForLine((l) => l === 'ready')));
  writeFileSync(barrier, '');
  const exits = await Promise.all(children.map((c) => c.exit));
  for (const [i, c] of children.entries()) {
    assert.equal(c.stderr(), '', `child ${i} printed an error`);
    assert.deepEqual(exits[i], { code: 0, signal: null });
  }
  const db = openRaw(home);
  try {
    assert.deepEqual(taskIds(db), range(100));
    assert.deepEqual(eventIds(db), range(100));
    assert.deepEqual(
      db.prepare('select version from schema_version order by version').all(),
      MIGRATIONS.map((m) => ({ version: m.version })),
    );
  } finally {
    db.close();
  }
});

test('a writer SIGKILLed mid-loop loses no reported task and leaves an intact database', {
  timeout: 60_000,
}, async () => {
  const home = tempDir('agentboard-kill-');
  const reported: number[] = [];
  for (let round = 0; round < 3; round++) {
    const child = spawnChild(home, { AB_FIXTURE: 'loop', AB_NAME: `round${round}` });
    await child.waitForLine((l) => /^T-\d+$/.test(l));
    await sleep(300);
    child.proc.kill('SIGKILL');
    const exit = await child.exit;
    assert.equal(exit.signal, 'SIGKILL', `round ${round}: ${child.stderr()}`);
    assert.equal(child.stderr(), '');
    const ids = child.lines.filter((l) => l !== '').map((l) => Number(l.replace(/^T-/, '')));
    assert.ok(ids.length > 5, `round ${round} reported only ${ids.length} tasks`);
    reported.push(...ids);

    // Opened directly, as after a crash: the WAL is recovered and the file is sound.
    const db = openRaw(home);
    try {
      assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
      assert.deepEqual(db.pragma('foreign_key_check'), []);
      const inDb = taskIds(db);
      const missing = reported.filter((id) => !inDb.includes(id));
      assert.deepEqual(missing, [], 'every id the child reported as committed is in the DB');
      // Each task and its event commit together: nothing half-written.
      assert.deepEqual(inDb, range(inDb.length));
      assert.deepEqual(eventIds(db), range(inDb.length));
    } finally {
      db.close();
    }
  }

  // The store opens the crashed database and carries on where it stopped.
  const app = await openApp({ env: { AGENTBOARD_HOME: home } });
  try {
    const db = openRaw(home);
    const max = Math.max(...taskIds(db));
    db.close();
    assert.ok(max >= Math.max(...reported));
    assert.equal((await addTask(app, { title: 'after the crash' })).id, `T-${max + 1}`);
  } finally {
    await app.store.close();
  }
});
