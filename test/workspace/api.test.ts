/** The workspace routes over a real repository: diff, merge, discard, gc, and their errors. */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { runsOf, waitForStatus } from '../engine/harness.js';
import { BOARD_WRITE_HEADERS, testServer } from '../support/api.js';
import { checkoutState, createRepo, git, openBoard, wsConfig } from './helpers.js';

test('the API diffs, merges and discards a task’s worktree, and lists gc candidates', async (t) => {
  const repo = createRepo();
  const board = await openBoard(
    repo,
    wsConfig(`echo "by the agent" >> shared.txt; printf '\\033[32m✔\\033[0m done\\n'`),
  );
  t.after(() => board.close());
  const server = testServer(board.app);
  t.after(() => server.close());
  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    server.inject({
      method,
      url,
      headers: BOARD_WRITE_HEADERS,
      ...(payload ? { payload } : {}),
    });

  const task = await addTask(board.app, { title: 'Append a line', agent: 'bot' });
  const plain = await addTask(board.app, { title: 'No workspace yet', status: 'backlog' });
  await waitForStatus(board.app, Number(task.id.slice(2)), 'review', 20_000);
  const [run] = await runsOf(board.app, Number(task.id.slice(2)));
  const before = checkoutState(repo);
  // The commit message is the agent's last words, without its terminal's escape codes.
  assert.match(
    git(repo, 'log', '-1', '--format=%B', run?.commit_after ?? ''),
    /^✔ done\n\nAgentboard-Task:/,
  );

  const diff = await call('GET', `/api/v1/tasks/${task.id}/diff`);
  assert.equal(diff.statusCode, 200, diff.body);
  assert.deepEqual(
    diff.json().files.map((f: { path: string }) => f.path),
    ['shared.txt'],
  );
  assert.match(diff.json().patch, /\+by the agent/);
  const runDiff = await call('GET', `/api/v1/runs/${run?.id}/diff`);
  assert.equal(runDiff.statusCode, 200, runDiff.body);
  assert.equal(runDiff.json().run, run?.id);

  const none = await call('GET', `/api/v1/tasks/${plain.id}/diff`);
  assert.equal(none.statusCode, 404);
  assert.match(none.json().error.message, /worktree/);
  assert.equal(
    (await call('POST', `/api/v1/tasks/${task.id}/merge`, { rebase: true })).statusCode,
    400,
  );

  const gc = await call('POST', '/api/v1/gc', { olderThan: '0s', dryRun: true });
  assert.equal(gc.statusCode, 200, gc.body);
  assert.equal(gc.json().dryRun, true);
  assert.equal((await call('POST', '/api/v1/gc', { olderThan: 'soon' })).statusCode, 400);

  const merged = await call('POST', `/api/v1/tasks/${task.id}/merge`, { squash: true });
  assert.equal(merged.statusCode, 200, merged.body);
  assert.equal(merged.json().outcome, 'merged');
  // The base branch moved; the user's (clean) checkout was fast-forwarded to it.
  assert.match(fs.readFileSync(path.join(repo, 'shared.txt'), 'utf8'), /by the agent/);
  assert.notEqual(checkoutState(repo), before);
  assert.match(git(repo, 'log', '--oneline', '-1'), /Append a line/);

  const ws = await call('GET', `/api/v1/tasks/${task.id}/workspace`);
  assert.ok(ws.json().mergedAt);
  const discarded = await call('POST', `/api/v1/tasks/${task.id}/discard`);
  assert.equal(discarded.statusCode, 200, discarded.body);
  assert.equal((await call('GET', `/api/v1/tasks/${task.id}/diff`)).statusCode, 404);
});

test('deleting a task with a worktree removes the worktree and its rows, and keeps the branch', async (t) => {
  const repo = createRepo();
  const board = await openBoard(repo, wsConfig('echo "kept" >> kept.txt'));
  t.after(() => board.close());
  const server = testServer(board.app);
  t.after(() => server.close());
  const task = await addTask(board.app, { title: 'Doomed', agent: 'bot' });
  await waitForStatus(board.app, Number(task.id.slice(2)), 'review', 20_000);
  const ws = (
    await server.inject({ url: `/api/v1/tasks/${task.id}/workspace`, headers: BOARD_WRITE_HEADERS })
  ).json();
  assert.ok(fs.existsSync(ws.path));
  const head = git(repo, 'rev-parse', ws.branch);

  const r = await server.inject({
    method: 'DELETE',
    url: `/api/v1/tasks/${task.id}`,
    headers: BOARD_WRITE_HEADERS,
  });
  assert.equal(r.statusCode, 200, r.body);
  assert.equal(fs.existsSync(ws.path), false, 'the worktree went with the task');
  assert.equal(git(repo, 'rev-parse', ws.branch), head, 'the branch and its work are kept');
  assert.doesNotMatch(git(repo, 'worktree', 'list'), /Doomed|T-1/);
  const gone = await server.inject({
    url: `/api/v1/tasks/${task.id}/workspace`,
    headers: BOARD_WRITE_HEADERS,
  });
  assert.equal(gone.statusCode, 404);
});
