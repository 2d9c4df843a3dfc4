/**
 * Review over the HTTP API, on a real repository whose task ran in a
 * worktree: line comments checked against the diff, request changes (a
 * resumed run whose prompt holds the comments), refusal while a run is
 * active, approve (Done).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test, { after } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import { sql } from 'kysely';
import { addTask } from '../../src/app/tasks.js';
import {
  deleteReviewRows,
  getPullRequest,
  insertReviewComment,
  pullRequestUrlsOf,
  savePullRequest,
} from '../../src/store/reviews.js';
import { listRuns } from '../../src/store/runs.js';
import { getTask } from '../../src/store/tasks.js';
import { getWorkspace } from '../../src/store/workspaces.js';
import { eventsOf, runsOf, taskNo, waitFor, waitForRun, waitForStatus } from '../engine/harness.js';
import { apiBoard, BOARD_WRITE_HEADERS, testServer } from '../support/api.js';
import { postgresBoard, sqliteBoard, testConfig } from '../support/board.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { tempDir } from '../support/tmp.js';
import { createRepo, git, openBoard, wsConfig } from '../workspace/helpers.js';

/**
 * Run n writes its prompt (stdin) to prompt-n (whole, by a rename), waits for the test to create
 * go-n, then adds a line: a run stays active for exactly as long as the test
 * needs it to.
 */
const AGENT = `n=$(ls "$SPY" | grep -c '^prompt-'); cat > "$SPY/tmp-$n"; mv "$SPY/tmp-$n" "$SPY/prompt-$n"; while [ ! -e "$SPY/go-$n" ]; do sleep 0.05; done; echo "by the agent $n" >> shared.txt`;

test('line comments on the diff, request changes resumes the agent with them, approve is Done', async (t) => {
  const spy = tempDir('agentboard-review-spy-');
  fs.writeFileSync(path.join(spy, 'go-0'), '');
  const repo = createRepo();
  const board = await openBoard(repo, wsConfig(AGENT, { env: { SPY: spy } }));
  t.after(() => board.close());
  const server = testServer(board.app);
  t.after(() => server.close());
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    server.inject({ method, url, headers: BOARD_WRITE_HEADERS, ...(payload ? { payload } : {}) });
  const ok = (r: LightMyRequestResponse, status = 200) => {
    assert.equal(r.statusCode, status, r.body);
    return r.json();
  };

  const view = await addTask(board.app, { title: 'Append a line', agent: 'bot' });
  const id = taskNo(view);
  await waitForStatus(board.app, id, 'review', 30_000);
  const url = `/api/v1/tasks/${view.id}/review`;
  assert.deepEqual(ok(await call('GET', url)), { task: view.id, draft: [], reviews: [] });

  // Line 11 is the agent's added line; 8-10 are context the diff shows.
  const c1 = ok(
    await call('POST', `${url}/comments`, {
      file: 'shared.txt',
      line: 11,
      body: 'Say `who` wrote it',
      quote: 'by the agent 0',
    }),
    201,
  );
  assert.equal(c1.quote, 'by the agent 0');
  assert.equal(c1.review, null);
  assert.equal(c1.side, 'new');
  const context = ok(
    await call('POST', `${url}/comments`, { file: 'shared.txt', line: 9, body: 'keep this' }),
    201,
  );
  assert.equal(context.quote, 'line 9');

  // Not in the diff: 400, nothing stored.
  const outside = [
    { file: 'shared.txt', line: 1, body: 'line 1 is not in the diff' },
    { file: 'shared.txt', line: 12, body: 'past the end' },
    { file: 'shared.txt', line: 11, side: 'old', body: 'nothing was removed' },
    { file: 'missing.txt', line: 1, body: 'not a changed file' },
  ];
  for (const payload of outside) {
    const r = await call('POST', `${url}/comments`, payload);
    assert.equal(r.statusCode, 400, `${JSON.stringify(payload)}: ${r.body}`);
    assert.equal(r.json().error.code, 'invalid_input');
  }
  assert.match(
    (await call('POST', `${url}/comments`, outside[0])).json().error.message,
    /no line 1 on the new side/,
  );
  assert.match(
    (await call('POST', `${url}/comments`, outside[3])).json().error.message,
    /does not change missing\.txt.*shared\.txt/,
  );
  assert.deepEqual(
    ok(await call('GET', url)).draft.map((c: { id: number }) => c.id),
    [c1.id, context.id],
  );

  // A draft can be deleted; one of another task is not found.
  ok(await call('DELETE', `${url}/comments/${context.id}`));
  assert.equal((await call('DELETE', `${url}/comments/${context.id}`)).statusCode, 404);
  assert.equal(
    (await call('DELETE', `/api/v1/tasks/T-999/review/comments/${c1.id}`)).statusCode,
    404,
  );

  // A request for changes needs a comment or a body.
  const emptyTask = await addTask(board.app, { title: 'nothing to review', status: 'backlog' });
  const empty = await call('POST', `/api/v1/tasks/${emptyTask.id}/review`, {
    verdict: 'request_changes',
  });
  assert.equal(empty.statusCode, 400, empty.body);

  const sent = ok(
    await call('POST', url, {
      verdict: 'request_changes',
      body: 'Nearly there. $(rm -rf ~) stays text.',
      author: 'ana',
    }),
  );
  assert.equal(sent.run.trigger, 'review');
  assert.equal(sent.run.agent, 'bot');
  assert.equal(sent.task.status, 'in_progress');
  assert.equal(sent.review.verdict, 'request_changes');
  assert.equal(sent.review.run, sent.run.id);
  assert.deepEqual(
    sent.review.comments.map((c: { id: number; review: number }) => [c.id, c.review]),
    [[c1.id, sent.review.id]],
  );
  const [, reviewRun] = await runsOf(board.app, id);
  assert.equal(reviewRun?.id, sent.run.id);
  // A command agent has no session to resume; the session path is tested below.
  assert.equal(reviewRun?.resume_session_id, null);

  // The agent receives the review: file, line, the quoted code, the comment, the body.
  const prompt = await waitFor(
    'the review run to read its prompt',
    () =>
      fs.existsSync(path.join(spy, 'prompt-1')) &&
      fs.readFileSync(path.join(spy, 'prompt-1'), 'utf8'),
    30_000,
  );
  assert.match(
    prompt,
    /## 1\. shared\.txt, line 11\n\n```\nby the agent 0\n```\n\nSay `who` wrote it\n/,
  );
  assert.match(prompt, /Nearly there\. \$\(rm -rf ~\) stays text\./);
  assert.match(prompt, /ana reviewed your work on branch /);
  assert.ok(!prompt.includes('keep this'), 'a deleted draft is not sent');

  // While the run is active: another review is refused and changes nothing.
  const c2 = ok(
    await call('POST', `${url}/comments`, { file: 'shared.txt', line: 10, body: 'and this' }),
    201,
  );
  const eventsBefore = (await eventsOf(board.app, 'review.submitted')).length;
  for (const verdict of ['request_changes', 'approve']) {
    const busy = await call('POST', url, { verdict, body: 'again' });
    assert.equal(busy.statusCode, 409, busy.body);
    assert.equal(busy.json().error.code, 'run_active');
    assert.match(busy.json().error.message, new RegExp(sent.run.id));
  }
  const during = ok(await call('GET', url));
  assert.deepEqual(
    during.draft.map((c: { id: number }) => c.id),
    [c2.id],
  );
  assert.equal(during.reviews.length, 1);
  assert.equal((await runsOf(board.app, id)).length, 2);
  assert.equal((await eventsOf(board.app, 'review.submitted')).length, eventsBefore);
  assert.equal(
    ok(await call('GET', `/api/v1/tasks/${view.id}`)).status,
    'in_progress',
    'a refused approve does not move the card',
  );
  // A comment sent with a review is part of it.
  const sentDelete = await call('DELETE', `${url}/comments/${c1.id}`);
  assert.equal(sentDelete.statusCode, 409, sentDelete.body);
  assert.equal(sentDelete.json().error.code, 'review_comment_sent');

  fs.writeFileSync(path.join(spy, 'go-1'), '');
  await waitForRun(board.app, id, 'succeeded', 30_000);
  await waitForStatus(board.app, id, 'review', 30_000);
  const diff = ok(await call('GET', `/api/v1/tasks/${view.id}/diff`));
  assert.match(diff.patch, /\+by the agent 1/);

  const approved = ok(await call('POST', url, { verdict: 'approve', body: 'Thanks' }));
  assert.equal(approved.task.status, 'done');
  assert.equal(approved.run, null);
  assert.equal(approved.review.verdict, 'approve');
  assert.match(approved.review.commit, /^[0-9a-f]{40}$/);
  const after = ok(await call('GET', url));
  assert.deepEqual(after.draft, []);
  assert.deepEqual(
    after.reviews.map((r: { verdict: string; comments: unknown[] }) => [
      r.verdict,
      r.comments.length,
    ]),
    [
      ['approve', 1],
      ['request_changes', 1],
    ],
  );
  assert.equal(
    (await listRuns(board.app.store.db, { taskId: id })).length,
    2,
    'approve queues no run',
  );
});

test('a comment on a line the branch has moved since the diff was loaded is a 409 diff_changed', async (t) => {
  const repo = createRepo();
  const board = await openBoard(repo, wsConfig('echo "by the agent" >> shared.txt'));
  t.after(() => board.close());
  const server = testServer(board.app);
  t.after(() => server.close());
  const call = (method: 'GET' | 'POST', url: string, payload?: object) =>
    server.inject({ method, url, headers: BOARD_WRITE_HEADERS, ...(payload ? { payload } : {}) });
  const view = await addTask(board.app, { title: 'Append a line', agent: 'bot' });
  const id = taskNo(view);
  await waitForStatus(board.app, id, 'review', 30_000);
  const url = `/api/v1/tasks/${view.id}/review`;

  // What the Review tab loaded: line 11 is the agent's.
  const loaded = await call('GET', `/api/v1/tasks/${view.id}/diff`);
  assert.equal(loaded.statusCode, 200, loaded.body);
  assert.match(loaded.json().patch, /\+by the agent\n/);

  // The branch moves: a line inserted above 11 shifts the agent's to 12.
  const ws = await getWorkspace(board.app.store.db, id);
  assert.ok(ws);
  const file = path.join(ws.path, 'shared.txt');
  fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('line 10\n', 'line 10\ninserted\n'));
  git(ws.path, 'commit', '--quiet', '-am', 'insert a line above');

  const stale = await call('POST', `${url}/comments`, {
    file: 'shared.txt',
    line: 11,
    quote: 'by the agent',
    body: 'meant for the agent’s line',
  });
  assert.equal(stale.statusCode, 409, stale.body);
  assert.equal(stale.json().error.code, 'diff_changed');
  assert.match(
    stale.json().error.message,
    /the diff changed since you loaded it: line 11 of shared\.txt now reads "inserted"; reload the Review tab/,
  );
  assert.deepEqual((await call('GET', url)).json().draft, [], 'nothing stored');

  // Without a quote the comment is on the line as it is now.
  const now = await call('POST', `${url}/comments`, {
    file: 'shared.txt',
    line: 11,
    body: 'on the current line',
  });
  assert.equal(now.statusCode, 201, now.body);
  assert.equal(now.json().quote, 'inserted');
  // With the quote of the line as it is now, it is accepted too.
  const fresh = await call('POST', `${url}/comments`, {
    file: 'shared.txt',
    line: 12,
    quote: 'by the agent',
    body: 'the agent’s line, where it is now',
  });
  assert.equal(fresh.statusCode, 201, fresh.body);
});

test('approve is one transaction: a failure recording the review leaves the card where it was', async (t) => {
  const repo = createRepo();
  const board = await openBoard(repo, wsConfig('echo "by the agent" >> shared.txt'));
  t.after(() => board.close());
  const server = testServer(board.app);
  t.after(() => server.close());
  const view = await addTask(board.app, { title: 'Append a line', agent: 'bot' });
  const id = taskNo(view);
  await waitForStatus(board.app, id, 'review', 30_000);
  const approve = () =>
    server.inject({
      method: 'POST',
      url: `/api/v1/tasks/${view.id}/review`,
      headers: BOARD_WRITE_HEADERS,
      payload: { verdict: 'approve', body: 'ok' },
    });
  const moves = async () =>
    (await eventsOf(board.app, 'task.moved')).filter((e) => e.taskId === id).length;

  // The write after the move fails, as a crash between the two steps would.
  await sql`CREATE TRIGGER no_reviews BEFORE INSERT ON reviews BEGIN SELECT RAISE(ABORT, 'disk gone'); END`.execute(
    board.app.store.db,
  );
  const movesBefore = await moves();
  const failed = await approve();
  assert.equal(failed.statusCode, 500, failed.body);
  assert.equal(
    (await getTask(board.app.store.db, id))?.status,
    'review',
    'not Done without its review',
  );
  assert.equal(await moves(), movesBefore, 'no task.moved event');
  assert.equal((await eventsOf(board.app, 'review.submitted')).length, 0);

  await sql`DROP TRIGGER no_reviews`.execute(board.app.store.db);
  const done = await approve();
  assert.equal(done.statusCode, 200, done.body);
  assert.equal((await getTask(board.app.store.db, id))?.status, 'done');
  assert.equal(await moves(), movesBefore + 1);
  const submitted = await eventsOf(board.app, 'review.submitted');
  assert.equal(submitted.length, 1);
  assert.equal(submitted[0]?.data.reviewId, done.json().review.id);
  assert.equal(
    (await server.inject({ method: 'GET', url: `/api/v1/tasks/${view.id}/review` })).json().reviews
      .length,
    1,
  );
});

let pg: TestPostgres | undefined;
after(() => pg?.close());

for (const dialect of ['sqlite', 'postgres'] as const) {
  test(`request changes resumes the agent's session; drafts, reviews and PR urls (${dialect})`, async (t) => {
    if (dialect === 'postgres') pg ??= await startPostgres();
    const api = await apiBoard({
      board:
        pg && dialect === 'postgres' ? postgresBoard(await pg.createDatabase()) : sqliteBoard(),
      config: testConfig({
        agents: { claude: { kind: 'claude', command: 'claude' } },
        board: { autostart: false },
      }),
    });
    t.after(() => api.close());
    const r = await api.call('POST', '/api/v1/tasks', { title: 'T', agent: 'claude' });
    const id = r.json().id as string;
    const no = taskNo({ id });
    const first = await api.call('POST', `/api/v1/tasks/${id}/runs`, {});
    assert.equal(first.statusCode, 202, first.body);
    // The run ran and left a session id (as the claude adapter records it).
    await api.app.store.db
      .updateTable('runs')
      .set({ state: 'succeeded', session_id: 'sess-1', ended_at: Date.now() })
      .where('id', '=', first.json().id)
      .execute();
    await api.app.store.db.updateTable('tasks').set({ status: 'review' }).execute();
    // A draft as the comment route stores it (the route itself needs a worktree: above).
    const draft = await api.app.store.tx((tx) =>
      insertReviewComment(tx, {
        task_id: no,
        file: 'a.ts',
        line: 3,
        side: 'old',
        quote: 'let x = ```;',
        body: 'why remove this?',
        author: 'ana',
      }),
    );

    const res = await api.call('POST', `/api/v1/tasks/${id}/review`, {
      verdict: 'request_changes',
      body: 'Handle the empty list.',
    });
    assert.equal(res.statusCode, 200, res.body);
    const [run] = await listRuns(api.app.store.db, { taskId: no, limit: 1 });
    assert.equal(run?.id, res.json().run.id);
    assert.equal(run?.trigger, 'review');
    assert.equal(run?.resume_session_id, 'sess-1');
    assert.equal(run?.previous_run_id, first.json().id);
    // The quote is fenced longer than the backticks it holds.
    assert.match(
      run?.prompt ?? '',
      /Handle the empty list\.\n\n## 1\. a\.ts, line 3 of the old version \(a removed line\)\n\n````\nlet x = ```;\n````\n\nwhy remove this\?\n$/,
    );
    // No workspace: the review is of no commit.
    assert.equal(res.json().review.commit, null);
    const got = (await api.call('GET', `/api/v1/tasks/${id}/review`)).json();
    assert.deepEqual(got.draft, []);
    assert.deepEqual(
      got.reviews[0].comments.map((c: { id: number; review: number }) => [c.id, c.review]),
      [[draft.id, res.json().review.id]],
    );

    await api.app.store.tx(async (tx) => {
      await savePullRequest(tx, no, { branch: 'b', remote: 'origin', pushed_commit: 'c1' });
      await savePullRequest(tx, no, { branch: 'b', url: 'https://example.com/pull/1' });
    });
    assert.deepEqual(
      [...(await pullRequestUrlsOf(api.app.store.db, [no, no + 1]))],
      [[no, 'https://example.com/pull/1']],
    );
    assert.equal((await getPullRequest(api.app.store.db, no))?.pushed_commit, 'c1');
    // Deleting the task takes its review rows with it (store/task-delete.ts calls this).
    await api.app.store.tx((tx) => deleteReviewRows(tx, no));
    assert.deepEqual((await api.call('GET', `/api/v1/tasks/${id}/review`)).json().reviews, []);
    assert.equal((await pullRequestUrlsOf(api.app.store.db, [no])).size, 0);
  });
}
