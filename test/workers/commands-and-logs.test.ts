/**
 * The worker commands, and a run's log read on a host that did not run it
 * (another AGENTBOARD_HOME on the same database: no local file, so the chunks
 * the worker shipped are read).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { openApp } from '../../src/app/context.js';
import { followRunOutput, readRunLog } from '../../src/app/run-output.js';
import { addTask } from '../../src/app/tasks.js';
import { listRuns } from '../../src/store/runs.js';
import { waitFor } from '../engine-crash/helpers.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { runCli, type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { createWorkerBoard } from './helpers.js';

let pg: TestPostgres;
const procs: ServeProcess[] = [];
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  for (const p of procs) p.forceKill();
  await pg.close();
});

/** 3,000 numbered lines on stdout, over about a second, and one line on stderr. */
const CHATTY = {
  kind: 'command',
  command: '/bin/bash',
  args: [
    '-c',
    'for i in $(seq 3000); do echo "line $i"; (( i % 300 )) || sleep 0.1; done; echo oops >&2',
  ],
  max_concurrency: 2,
};
const EXPECTED = Array.from({ length: 3000 }, (_, i) => `line ${i + 1}\n`).join('');

test('agentboard worker needs AGENTBOARD_DATABASE_URL; labels must name an agent', async () => {
  const home = tempDir('agentboard-cli-');
  const noUrl = await runCli(home, ['worker']);
  assert.equal(noUrl.code, 1);
  assert.match(
    noUrl.stderr,
    /agentboard worker needs the shared database: set AGENTBOARD_DATABASE_URL/,
  );

  const board = createWorkerBoard(await pg.createDatabase(), { agents: { chatty: CHATTY } });
  const bad = await runCli(board.home, ['worker', '--labels', 'linux'], {
    env: { AGENTBOARD_DATABASE_URL: board.databaseUrl },
  });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /no configured agent matches the labels linux/);
});

test('serve --no-worker claims nothing; a worker elsewhere runs the task, its log is read here', async () => {
  const board = createWorkerBoard(await pg.createDatabase(), { agents: { chatty: CHATTY } });
  // The API host: its own home (no run directories of the worker's).
  const apiHome = path.join(tempDir('agentboard-api-'), 'home');
  fs.mkdirSync(apiHome);
  fs.copyFileSync(path.join(board.home, 'config.yaml'), path.join(apiHome, 'config.yaml'));
  const env = { AGENTBOARD_DATABASE_URL: board.databaseUrl };
  const api = await openApp({ env: { AGENTBOARD_HOME: apiHome, ...env }, cwd: apiHome });
  try {
    const serve = await startServe(apiHome, { env, args: ['serve', '--no-worker'] });
    procs.push(serve);
    await addTask(api, { title: 'talk', agent: 'chatty' });
    await new Promise((r) => setTimeout(r, 1500));
    const queued = await listRuns(api.store.db, {});
    assert.equal(queued.length, 1);
    assert.equal(queued[0]?.state, 'queued', 'serve --no-worker claimed nothing');

    const worker = await board.startWorker([], { AGENTBOARD_HOST: 'host-b' });
    procs.push(worker);
    const runId = queued[0]?.id ?? '';
    // Followed from the API host while it runs on the worker.
    let followed = '';
    await followRunOutput(api, runId, 'stdout', {
      onChunk: (c) => {
        followed += c.toString();
      },
    });
    assert.equal(followed, EXPECTED);
    const run = await waitFor('the run succeeded', async () => {
      const r = (await listRuns(api.store.db, {}))[0];
      return r?.state === 'succeeded' && r;
    });
    assert.equal(run.host, 'host-b');

    const mid = await readRunLog(api, runId, 'stdout', { offset: 7, limit: 10 });
    assert.equal(mid.source, 'database');
    assert.equal(mid.data.toString(), EXPECTED.slice(7, 17));
    assert.equal(mid.complete, false);
    const tail = await readRunLog(api, runId, 'stdout', { offset: EXPECTED.length - 10 });
    assert.equal(tail.data.toString(), EXPECTED.slice(-10));
    assert.equal(tail.complete, true);
    assert.equal((await readRunLog(api, runId, 'stderr')).data.toString(), 'oops\n');

    const cli = await runCli(apiHome, ['logs', runId], { env });
    assert.equal(cli.code, 0, cli.stderr);
    assert.equal(cli.stdout, EXPECTED);

    const listed = await runCli(apiHome, ['workers', '--json'], { env });
    const workers = JSON.parse(listed.stdout) as { id: string; host: string; alive: boolean }[];
    assert.deepEqual(
      workers.filter((w) => w.alive).map((w) => w.host),
      ['host-b'],
      'serve --no-worker registers no worker',
    );
    await worker.stop();
    await serve.stop();
  } finally {
    await api.store.close();
  }
});

test('a stop requested on the API host reaches the worker on another host', async () => {
  const board = createWorkerBoard(await pg.createDatabase(), {
    agents: {
      sleepy: {
        kind: 'command',
        command: '/bin/sh',
        args: ['-c', 'exec sleep 60'],
        max_concurrency: 1,
      },
    },
    defaults: { stop_grace: '1s' },
  });
  const apiHome = path.join(tempDir('agentboard-api-'), 'home');
  fs.mkdirSync(apiHome);
  fs.copyFileSync(path.join(board.home, 'config.yaml'), path.join(apiHome, 'config.yaml'));
  const env = { AGENTBOARD_DATABASE_URL: board.databaseUrl };
  const api = await openApp({ env: { AGENTBOARD_HOME: apiHome, ...env }, cwd: apiHome });
  try {
    const worker = await board.startWorker([], { AGENTBOARD_HOST: 'host-b' });
    procs.push(worker);
    const task = await addTask(api, { title: 'sleep', agent: 'sleepy' });
    const running = await waitFor('the agent running', async () => {
      const r = (await listRuns(api.store.db, {}))[0];
      return r?.state === 'running' && r;
    });
    const stop = await runCli(apiHome, ['stop', task.id], { env });
    assert.equal(stop.code, 0, stop.stderr);
    const ended = await waitFor(
      'the worker ended the run',
      async () => {
        const r = (await listRuns(api.store.db, {}))[0];
        return r && r.state !== 'running' && r;
      },
      15_000,
    );
    assert.equal(ended.state, 'cancelled');
    assert.equal(ended.worker_id, running.worker_id, 'ended by the worker that ran it');
    assert.match(worker.stderr + worker.stdout, new RegExp(`run ${running.id} .*cancelled`));
    await worker.stop();
  } finally {
    await api.store.close();
  }
});
