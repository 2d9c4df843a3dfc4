/**
 * Push and pull request over the API, against a local bare repository as
 * `origin` and a scripted `gh` stand-in given as board.pr_command: the
 * branch arrives with the right commit, the URL is stored, a hostile title
 * is one literal argument, and failures record nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { cardViews } from '../../src/app/read-board.js';
import { addTask } from '../../src/app/tasks.js';
import { getWorkspace } from '../../src/store/workspaces.js';
import { lastUrl, prArgv, runCommand } from '../../src/workspace/push.js';
import { eventsOf, taskNo, waitForStatus } from '../engine/harness.js';
import { BOARD_WRITE_HEADERS, testServer } from '../support/api.js';
import { tempDir } from '../support/tmp.js';
import { createRepo, git, openBoard, type WsBoard, wsConfig } from './helpers.js';

const HOSTILE = 'Fix it $(rm -rf ~); echo pwned `id` "quoted" && true > /tmp/x';

/**
 * The stand-in: writes its argv as JSON, then acts as `mode` says (ok: a
 * few lines and two URLs, the PR's last; fail: a URL, then exit 1; nourl).
 */
function standIn(dir: string): string {
  const file = path.join(dir, 'gh');
  fs.writeFileSync(
    file,
    `#!${process.execPath}
const fs = require('node:fs');
const path = require('node:path');
fs.writeFileSync(path.join(${JSON.stringify(dir)}, 'argv.json'), JSON.stringify(process.argv.slice(2)));
const mode = fs.readFileSync(path.join(${JSON.stringify(dir)}, 'mode'), 'utf8').trim();
if (mode === 'fail') {
  console.log('https://example.com/should/not/be/stored');
  console.error('error: not logged in to example.com\\nrun gh auth login');
  process.exit(1);
}
console.log('Creating pull request for the branch');
if (mode === 'ok') console.log('see https://example.com/docs, then\\nhttps://example.com/o/r/pull/7');
else console.log('nothing to see');
`,
  );
  fs.chmodSync(file, 0o755);
  fs.writeFileSync(path.join(dir, 'mode'), 'ok');
  return file;
}

function serve(board: WsBoard) {
  const server = testServer(board.app);
  const call = (url: string, method: 'GET' | 'POST' = 'POST') =>
    server.inject({ method, url, headers: BOARD_WRITE_HEADERS });
  return { server, call };
}

function err(r: LightMyRequestResponse, status: number, code: string): string {
  assert.equal(r.statusCode, status, r.body);
  assert.equal(r.json().error.code, code, r.body);
  return r.json().error.message;
}

test('push to a bare origin; a pull request through the stand-in; failures record nothing', async (t) => {
  const tools = tempDir('agentboard-gh-');
  const gh = standIn(tools);
  const bare = tempDir('agentboard-origin-');
  git(bare, 'init', '--quiet', '--bare');
  const repo = createRepo();
  git(repo, 'remote', 'add', 'origin', bare);
  const board = await openBoard(
    repo,
    wsConfig('echo "by the agent" >> shared.txt', {
      board: {
        remote: 'origin',
        pr_command: [
          gh,
          'pr',
          'create',
          '--head',
          '{branch}',
          '--base',
          '{base}',
          '--title',
          '{title}',
          '--remote',
          '{remote}',
          'x-{branch}-{base}',
        ],
      },
    }),
  );
  t.after(() => board.close());
  const { server, call } = serve(board);
  t.after(() => server.close());

  const a = await addTask(board.app, { title: 'Pushed by hand', agent: 'bot' });
  const b = await addTask(board.app, { title: HOSTILE, agent: 'bot' });
  await waitForStatus(board.app, taskNo(a), 'review', 30_000);
  await waitForStatus(board.app, taskNo(b), 'review', 30_000);
  const wsA = await getWorkspace(board.app.store.db, taskNo(a));
  const wsB = await getWorkspace(board.app.store.db, taskNo(b));
  assert.ok(wsA && wsB);

  // A push that fails (origin unreachable) says git's reason and records nothing.
  git(repo, 'remote', 'set-url', 'origin', path.join(bare, 'missing'));
  const failed = err(await call(`/api/v1/tasks/${a.id}/push`), 502, 'push_failed');
  assert.match(failed, /does not appear to be a git repository|not found|No such file/i);
  assert.equal((await eventsOf(board.app, 'workspace.pushed')).length, 0);
  git(repo, 'remote', 'set-url', 'origin', bare);

  const pushed = await call(`/api/v1/tasks/${a.id}/push`);
  assert.equal(pushed.statusCode, 200, pushed.body);
  const head = git(repo, 'rev-parse', wsA.branch);
  assert.deepEqual(pushed.json(), {
    task: a.id,
    branch: wsA.branch,
    remote: 'origin',
    commit: head,
  });
  assert.equal(git(bare, 'rev-parse', `refs/heads/${wsA.branch}`), head);
  assert.equal((await eventsOf(board.app, 'workspace.pushed')).length, 1);

  // The stand-in exits 1 (with a URL on stdout all the same): a clear error, nothing stored.
  fs.writeFileSync(path.join(tools, 'mode'), 'fail');
  const refused = err(await call(`/api/v1/tasks/${b.id}/pull-request`), 502, 'pr_command_failed');
  assert.match(refused, /exited with 1: error: not logged in to example\.com/);
  fs.writeFileSync(path.join(tools, 'mode'), 'nourl');
  const noUrl = err(await call(`/api/v1/tasks/${b.id}/pull-request`), 502, 'pr_command_failed');
  assert.match(noUrl, /printed no http\(s\) URL/);
  assert.equal((await cardViews(board.app, [taskNo(b)]))[0]?.pullRequestUrl, null);
  assert.equal((await eventsOf(board.app, 'workspace.pull_request')).length, 0);
  // It pushed the branch first (the remote is set and the branch was not there).
  const headB = git(repo, 'rev-parse', wsB.branch);
  assert.equal(git(bare, 'rev-parse', `refs/heads/${wsB.branch}`), headB);

  fs.writeFileSync(path.join(tools, 'mode'), 'ok');
  const pr = await call(`/api/v1/tasks/${b.id}/pull-request`);
  assert.equal(pr.statusCode, 200, pr.body);
  assert.deepEqual(pr.json(), {
    task: b.id,
    branch: wsB.branch,
    url: 'https://example.com/o/r/pull/7',
  });
  // The hostile title is one literal argument; placeholders inside an argument are replaced.
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(tools, 'argv.json'), 'utf8')), [
    'pr',
    'create',
    '--head',
    wsB.branch,
    '--base',
    'main',
    '--title',
    HOSTILE,
    '--remote',
    'origin',
    `x-${wsB.branch}-main`,
  ]);
  // The card shows it, and only on its own task.
  assert.deepEqual(
    (await cardViews(board.app, [taskNo(a), taskNo(b)])).map((c) => [c.task, c.pullRequestUrl]),
    [
      [a.id, null],
      [b.id, 'https://example.com/o/r/pull/7'],
    ],
  );
  assert.equal(
    (await call(`/api/v1/tasks/${b.id}`, 'GET')).json().pullRequestUrl,
    'https://example.com/o/r/pull/7',
  );
  const [event] = await eventsOf(board.app, 'workspace.pull_request');
  assert.deepEqual(event?.data, { branch: wsB.branch, url: 'https://example.com/o/r/pull/7' });
  // Pushed once only: the second and third attempts found the head already there.
  assert.equal((await eventsOf(board.app, 'workspace.pushed')).length, 2);
});

test('without board.remote or board.pr_command: a clear 400 naming the setting', async (t) => {
  const repo = createRepo();
  const board = await openBoard(repo, wsConfig('true'), { engine: false });
  t.after(() => board.close());
  const { server, call } = serve(board);
  t.after(() => server.close());
  const task = await addTask(board.app, { title: 'T', status: 'backlog' });
  assert.match(
    err(await call(`/api/v1/tasks/${task.id}/push`), 400, 'remote_not_configured'),
    /set board\.remote|board\.remote is not set/,
  );
  assert.match(
    err(await call(`/api/v1/tasks/${task.id}/pull-request`), 400, 'pr_command_not_configured'),
    /board\.pr_command is not set/,
  );
});

test('pr_command as a string is split on whitespace; a value is one argument, spaces and all', () => {
  const values = { branch: 'T-1-x', base: 'main', title: 'a title; $(echo hi)', remote: '' };
  assert.deepEqual(
    prArgv('  gh pr create --fill\t--head {branch} --title {title} --body=[{title}] ', values),
    [
      'gh',
      'pr',
      'create',
      '--fill',
      '--head',
      'T-1-x',
      '--title',
      'a title; $(echo hi)',
      '--body=[a title; $(echo hi)]',
    ],
  );
  assert.deepEqual(
    prArgv(['glab', 'mr', 'create', '--source-branch', '{branch}', '{remote}'], values),
    ['glab', 'mr', 'create', '--source-branch', 'T-1-x', ''],
  );
  // A value holding a placeholder is not expanded again.
  assert.deepEqual(prArgv(['{title}'], { ...values, title: '{branch}' }), ['{branch}']);
  assert.equal(
    lastUrl('a https://x.example/1\nthen (https://x.example/pull/2).'),
    'https://x.example/pull/2',
  );
  assert.equal(lastUrl('no url here'), null);
});

test('the command runner: a missing program is a clear error; a timeout stops its whole group', async () => {
  await assert.rejects(
    runCommand(['/nonexistent/gh', 'pr', 'create'], { cwd: tempDir(), timeoutMs: 5000 }),
    (e: Error & { code?: string }) =>
      e.code === 'pr_command_failed' && /\/nonexistent\/gh was not found/.test(e.message),
  );
  const started = Date.now();
  // A child in the background holds the pipes open too: the runner still returns.
  const r = await runCommand(
    ['/bin/sh', '-c', 'echo https://example.com/early; sleep 30 & sleep 30'],
    {
      cwd: tempDir(),
      timeoutMs: 300,
    },
  );
  assert.equal(r.timedOut, true);
  assert.ok(Date.now() - started < 20_000, 'returned long before the sleeps would end');
  assert.match(r.stdout, /https:\/\/example\.com\/early/);
});
