import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { type App, openApp } from '../../src/app/context.js';
import { addTask } from '../../src/app/tasks.js';
import { runViews } from '../../src/app/workers.js';
import { parseTaskId } from '../../src/domain/ids.js';
import { stepRun } from '../../src/domain/run.js';
import { listRuns, type RunRow, updateRun } from '../../src/store/runs.js';
import { stopWorker, upsertWorker } from '../../src/store/workers.js';
import { boardEnv, execCli, ServeProcess } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

const LEASE = 30_000;

/** A board with no engine: the CLI and the tests read the same home. */
async function board(t: { after(fn: () => Promise<void>): void }) {
  const home = path.join(tempDir('agentboard-unsupervised-'), '.agentboard');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(
    path.join(home, 'config.yaml'),
    'agents:\n  bot:\n    kind: command\n    command: "true"\ndefaults:\n  lease: 30s\n',
  );
  const app = await openApp({ env: { AGENTBOARD_HOME: home } });
  t.after(() => app.store.close());
  return { home, app };
}

/** A run as a worker left it: running on `worker`, its lease ending `leaseLeftMs` from now. */
async function runningRun(app: App, worker: string, leaseLeftMs: number): Promise<RunRow> {
  const view = await addTask(app, { title: `held by ${worker}`, agent: 'bot' });
  const [queued] = await listRuns(app.store.db, { taskId: parseTaskId(view.id) });
  assert.ok(queued, 'autostart queued a run');
  const now = await app.store.leaseNow();
  // Claimed and started, the way a worker does it: two steps of the run machine.
  const claimed = stepRun(queued.state, { type: 'claim' });
  await app.store.tx(async (tx) => {
    await updateRun(tx, queued.id, { state: claimed });
    await updateRun(tx, queued.id, {
      state: stepRun(claimed.to, { type: 'start' }),
      worker_id: worker,
      lease_token: 1,
      lease_expires_at: now + leaseLeftMs,
      claimed_at: now - LEASE,
      started_at: now - LEASE,
      pid: 999_999,
      host: 'elsewhere',
    });
  });
  return queued;
}

function addWorker(app: App, id: string) {
  return app.store.tx((tx) =>
    upsertWorker(tx, {
      id,
      host: 'elsewhere',
      boot_id: 'boot',
      pid: 999_998,
      proc_start_time: null,
      labels: JSON.stringify(['bot']),
      started_at: tx.now,
    }),
  );
}

async function cliRuns(home: string) {
  const json = await execCli(['runs', '--json'], { env: boardEnv(home) });
  assert.equal(json.code, 0, json.stderr);
  const human = await execCli(['runs'], { env: boardEnv(home) });
  assert.equal(human.code, 0, human.stderr);
  return {
    views: new Map(
      (JSON.parse(json.stdout) as { id: string; unsupervised: boolean }[]).map((v) => [
        v.id,
        v.unsupervised,
      ]),
    ),
    human,
  };
}

describe('unsupervised runs (lease expired, no engine alive)', () => {
  test('an expired lease with no live worker is unsupervised; an unexpired one or a queued run is not', async (t) => {
    const { home, app } = await board(t);
    const expired = await runningRun(app, 'w-dead', -5000);
    const current = await runningRun(app, 'w-dead', LEASE);
    // A worker that stopped is no engine.
    await addWorker(app, 'w-stopped');
    await app.store.tx((tx) => stopWorker(tx, 'w-stopped'));
    const queued = (await addTask(app, { title: 'waits', agent: 'bot' })).id;
    const queuedRun = (await listRuns(app.store.db, { taskId: parseTaskId(queued) }))[0];
    assert.equal(queuedRun?.state, 'queued');

    const views = new Map(
      (await runViews(app, await listRuns(app.store.db, {}))).map((v) => [v.id, v.unsupervised]),
    );
    assert.equal(views.get(expired.id), true);
    assert.equal(views.get(current.id), false, 'its lease still runs');
    assert.equal(views.get(queuedRun?.id ?? ''), false, 'never claimed');

    const cli = await cliRuns(home);
    assert.equal(cli.views.get(expired.id), true);
    assert.equal(cli.views.get(current.id), false);
    const line = cli.human.stdout.split('\n').find((l) => l.startsWith(expired.id));
    assert.match(line ?? '', /unsupervised: lease expired, no engine alive/);
    const other = cli.human.stdout.split('\n').find((l) => l.startsWith(current.id));
    assert.doesNotMatch(other ?? '<missing>', /unsupervised/);
    assert.match(cli.human.stderr, /no engine is alive.*agentboard serve/);
  });

  test('with a live worker the same run is not unsupervised (the reconciler will recover it)', async (t) => {
    const { home, app } = await board(t);
    const expired = await runningRun(app, 'w-dead', -5000);
    await addWorker(app, 'w-alive');
    const [view] = await runViews(app, await listRuns(app.store.db, {}));
    assert.equal(view?.id, expired.id);
    assert.equal(view.unsupervised, false);
    const cli = await cliRuns(home);
    assert.equal(cli.views.get(expired.id), false);
    assert.doesNotMatch(cli.human.stdout, /unsupervised/);
    assert.doesNotMatch(cli.human.stderr, /no engine is alive/);
  });
});

describe('serve --no-worker on SQLite', () => {
  const WARNING =
    /warning: no worker: nothing will run on this board until one starts \(`agentboard worker`, or `agentboard serve` without --no-worker\)/;

  async function stderrOf(home: string, after: (s: ServeProcess) => Promise<void>) {
    const serve = new ServeProcess(home, { args: ['--no-worker'] });
    try {
      await serve.waitReady();
      await after(serve);
      return serve.stderr;
    } finally {
      await serve.kill('SIGTERM');
    }
  }

  test('warns once, at start, that nothing will run', async (t) => {
    const { home, app } = await board(t);
    await app.store.close();
    const stderr = await stderrOf(home, async (s) => {
      const deadline = Date.now() + 10_000;
      while (!WARNING.test(s.stderr) && Date.now() < deadline) await sleep(20);
    });
    assert.match(stderr, WARNING);
    assert.equal(stderr.match(new RegExp(WARNING, 'g'))?.length, 1, 'one line');
  });

  test('says nothing while a worker is alive', async (t) => {
    const { home, app } = await board(t);
    await addWorker(app, 'w-alive');
    await app.store.close();
    // The warning comes right after the ready line; give it ample time to (wrongly) appear.
    const stderr = await stderrOf(home, () => sleep(1500));
    assert.doesNotMatch(stderr, /no worker/);
  });
});
