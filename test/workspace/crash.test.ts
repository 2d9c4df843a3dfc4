/**
 * Work in a task's worktree survives crashes, with real `agentboard serve`
 * processes SIGKILLed mid-run: what the agent wrote is committed when the
 * restarted server records the run's end, and the next attempt builds on it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { type App, openApp } from '../../src/app/context.js';
import { addTask } from '../../src/app/tasks.js';
import { diffRun } from '../../src/app/workspaces.js';
import { runDir } from '../../src/config/home.js';
import { getWorkspace } from '../../src/store/workspaces.js';
import { runsOf, waitFor, waitForStatus } from '../engine/harness.js';
import { killRunProcesses } from '../engine-crash/helpers.js';
import { type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { checkoutState, createRepo, git, wsConfig } from './helpers.js';

async function setUp(script: string, defaults: Record<string, unknown> = {}) {
  const repo = createRepo();
  const sync = tempDir('agentboard-sync-');
  const home = path.join(repo, '.agentboard');
  fs.mkdirSync(home);
  const config = wsConfig(script, {
    env: { SYNC: sync },
    defaults: { lease: '3s', ...defaults },
  });
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config));
  const app = await openApp({ env: { AGENTBOARD_HOME: home }, cwd: repo });
  return { repo, sync, home, app };
}

async function cleanUp(app: App, home: string, servers: (ServeProcess | undefined)[]) {
  for (const s of servers) s?.forceKill();
  killRunProcesses(home);
  await app.store.close();
}

test('a machine crash mid-run (server and agent killed): the work so far is committed at restart and the retry continues from it', {
  timeout: 90_000,
}, async () => {
  // First attempt: writes a.txt, then hangs. A later attempt finds a.txt and finishes.
  const script = [
    'if [ -f a.txt ]; then echo second > b.txt; echo "finished on top of a.txt"; exit 0; fi',
    'echo first > a.txt',
    'echo "wrote a.txt, now working"',
    'touch "$SYNC/wrote"',
    'sleep 60',
  ].join('\n');
  const { repo, sync, home, app } = await setUp(script, { max_attempts: 2 });
  const before = checkoutState(repo);
  let first: ServeProcess | undefined;
  let second: ServeProcess | undefined;
  try {
    first = await startServe(home);
    const t = await addTask(app, { title: 'Crash me', agent: 'bot' });
    const taskId = Number(t.id.slice(2));
    await waitFor(
      'the agent to write a.txt',
      () => fs.existsSync(path.join(sync, 'wrote')),
      20_000,
    );
    await first.kill('SIGKILL');
    assert.ok(killRunProcesses(home) > 0, 'the agent was running');

    second = await startServe(home);
    await waitForStatus(app, taskId, 'review', 30_000);
    const [lost, retry] = await runsOf(app, taskId);
    assert.ok(lost && retry);
    assert.equal(lost.state, 'lost');
    assert.equal(retry.state, 'succeeded');
    const ws = await getWorkspace(app.store.db, taskId);
    assert.ok(ws);
    // The lost run's work is its own commit, and the retry started from it.
    assert.ok(lost.commit_after && lost.commit_after !== lost.commit_before);
    assert.equal(retry.commit_before, lost.commit_after);
    assert.equal(git(repo, 'show', `${lost.commit_after}:a.txt`), 'first');
    assert.match(
      git(repo, 'log', '-1', '--format=%B', lost.commit_after),
      /^wrote a\.txt, now working\n[\s\S]*Agentboard-Outcome: lost/,
    );
    assert.deepEqual(
      (await diffRun(app, retry.id)).files.map((f) => f.path),
      ['b.txt'],
    );
    assert.equal(git(repo, 'rev-parse', ws.branch), retry.commit_after);
    assert.equal(git(ws.path, 'status', '--porcelain'), '');
    assert.equal(checkoutState(repo), before);
  } finally {
    await cleanUp(app, home, [first, second]);
  }
});

test('an agent that finishes while no server is up: the restarted server commits its work', {
  timeout: 90_000,
}, async () => {
  const script = [
    'echo one > c.txt',
    'touch "$SYNC/wrote"',
    'while [ ! -f "$SYNC/go" ]; do sleep 0.05; done',
    'echo two > d.txt',
    'echo "wrote c.txt and d.txt"',
  ].join('\n');
  const { repo, sync, home, app } = await setUp(script);
  let first: ServeProcess | undefined;
  let second: ServeProcess | undefined;
  try {
    first = await startServe(home);
    const t = await addTask(app, { title: 'Outlive the server', agent: 'bot' });
    const taskId = Number(t.id.slice(2));
    await waitFor('the agent to start', () => fs.existsSync(path.join(sync, 'wrote')), 20_000);
    await first.kill('SIGKILL');
    const [run] = await runsOf(app, taskId);
    assert.ok(run);
    fs.writeFileSync(path.join(sync, 'go'), '');
    await waitFor(
      'the agent to exit',
      () => fs.existsSync(path.join(runDir(app.paths, run.id), 'exit.json')),
      20_000,
    );
    const ws = await getWorkspace(app.store.db, taskId);
    assert.ok(ws);
    // Nobody has committed yet: the work sits in the worktree.
    assert.equal(git(repo, 'rev-parse', ws.branch), run.commit_before);

    second = await startServe(home);
    await waitForStatus(app, taskId, 'review', 30_000);
    const [done] = await runsOf(app, taskId);
    assert.equal(done?.state, 'succeeded');
    assert.equal(done?.commit_after, git(repo, 'rev-parse', ws.branch));
    assert.equal(git(repo, 'log', '-1', '--format=%s', ws.branch), 'wrote c.txt and d.txt');
    assert.equal(git(repo, 'show', `${ws.branch}:c.txt`), 'one');
    assert.equal(git(repo, 'show', `${ws.branch}:d.txt`), 'two');
  } finally {
    await cleanUp(app, home, [first, second]);
  }
});
