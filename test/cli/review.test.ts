/**
 * The review, push and pr commands as a user runs them (child processes on
 * the board's home), against a task that ran in a worktree.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { taskNo, waitFor, waitForRun, waitForStatus } from '../engine/harness.js';
import { type CliResult, execCli } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { createRepo, git, openBoard, wsConfig } from '../workspace/helpers.js';

const BASE_PATH = `${path.dirname(process.execPath)}:/usr/bin:/bin`;

test('agentboard review / review comment / review submit / push / pr', async (t) => {
  const spy = tempDir('agentboard-cli-review-');
  const gh = path.join(spy, 'gh');
  fs.writeFileSync(
    gh,
    '#!/bin/sh\necho "opening a pull request for $2"\necho https://example.com/o/r/pull/3\n',
  );
  fs.chmodSync(gh, 0o755);
  const bare = tempDir('agentboard-cli-origin-');
  git(bare, 'init', '--quiet', '--bare');
  const repo = createRepo();
  git(repo, 'remote', 'add', 'origin', bare);
  const board = await openBoard(
    repo,
    wsConfig(
      `n=$(ls "$SPY" | grep -c '^prompt-'); cat > "$SPY/prompt-$n"; echo "by the agent $n" >> shared.txt`,
      {
        env: { SPY: spy },
        board: { remote: 'origin', pr_command: `${gh} --head {branch} --title {title}` },
      },
    ),
  );
  t.after(() => board.close());
  const cli = (...args: string[]): Promise<CliResult> =>
    execCli(args, {
      env: { PATH: BASE_PATH, AGENTBOARD_HOME: board.home, USER: 'tester' },
      cwd: repo,
    });
  const json = async (...args: string[]) => {
    const r = await cli(...args, '--json');
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const usage = (r: CliResult, message: RegExp) => {
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, message);
  };

  const view = await addTask(board.app, { title: 'Append a line', agent: 'bot' });
  const id = taskNo(view);
  await waitForStatus(board.app, id, 'review', 30_000);

  assert.deepEqual(await json('review', view.id), { task: view.id, draft: [], reviews: [] });
  const c = await json(
    'review',
    'comment',
    view.id,
    '--file',
    'shared.txt',
    '--line',
    '11',
    '--body',
    'Name the author',
  );
  assert.equal(c.quote, 'by the agent 0');
  assert.equal(c.author, 'tester');
  usage(
    await cli('review', 'comment', view.id, '--file', 'shared.txt', '--line', '1', '--body', 'x'),
    /^error: shared\.txt has no line 1 on the new side/,
  );
  usage(
    await cli(
      'review',
      'comment',
      view.id,
      '--file',
      'shared.txt',
      '--line',
      '11',
      '--side',
      'left',
      '--body',
      'x',
    ),
    /--side must be new or old/,
  );
  usage(
    await cli('review', 'comment', view.id, '--file', 'shared.txt', '--line', '0', '--body', 'x'),
    /line must be a whole number >= 1/,
  );

  const shown = await cli('review', view.id);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(
    shown.stdout,
    /^T-\d+: 1 draft comment\(s\)\n {2}#\d+ shared\.txt:11 tester: Name the author\n {6}> by the agent 0\nno reviews yet\n$/,
  );

  // A draft can be taken back before it is sent.
  const extra = await json(
    'review',
    'comment',
    view.id,
    '--file',
    'shared.txt',
    '--line',
    '10',
    '--body',
    'Never mind this one',
  );
  const removed = await cli('review', 'uncomment', view.id, String(extra.id));
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(removed.stdout, `draft comment ${extra.id} deleted\n`);
  const gone = await cli('review', 'uncomment', view.id, String(extra.id));
  assert.equal(gone.code, 1, gone.stderr);
  assert.match(gone.stderr, new RegExp(`^error: review comment ${extra.id} not found`));
  usage(await cli('review', 'uncomment', view.id, 'x1'), /comment must be a whole number >= 1/);
  assert.deepEqual(
    (await json('review', view.id)).draft.map((d: { id: number }) => d.id),
    [c.id],
  );

  usage(await cli('review', 'submit', view.id), /give one of --request-changes or --approve/);
  const sent = await cli(
    'review',
    'submit',
    view.id,
    '--request-changes',
    '--body',
    'One more thing.',
  );
  assert.equal(sent.code, 0, sent.stderr);
  assert.match(
    sent.stdout,
    /^review \d+ sent \(1 comment\(s\)\): run r\S+ of bot queued to address it\n$/,
  );
  const run = await waitForRun(board.app, id, 'succeeded', 30_000);
  assert.equal(run.trigger, 'review');
  const prompt = await waitFor(
    'the prompt',
    () =>
      fs.existsSync(path.join(spy, 'prompt-1')) &&
      fs.readFileSync(path.join(spy, 'prompt-1'), 'utf8'),
    30_000,
  );
  assert.match(prompt, /shared\.txt, line 11\n\n```\nby the agent 0\n```\n\nName the author/);
  assert.match(prompt, /One more thing\./);
  assert.ok(!prompt.includes('Never mind this one'), 'a deleted draft is not sent');
  // A comment sent with a review is part of it: exit 1, and it stays.
  const sentDelete = await cli('review', 'uncomment', view.id, String(c.id));
  assert.equal(sentDelete.code, 1, sentDelete.stderr);
  assert.equal(sentDelete.stdout, '');
  assert.match(
    sentDelete.stderr,
    new RegExp(`^error: review comment ${c.id} was sent with review \\d+ and is part of it now`),
  );
  await waitForStatus(board.app, id, 'review', 30_000);

  const approved = await json('review', 'submit', view.id, '--approve');
  assert.equal(approved.task.status, 'done');
  const history = await cli('review', view.id);
  assert.match(
    history.stdout,
    /review \d+ approve by tester .*\nreview \d+ request_changes by tester .*, run r\S+\n {2}One more thing\.\n {2}#\d+ shared\.txt:11/,
  );

  const pushed = await cli('push', view.id);
  assert.equal(pushed.code, 0, pushed.stderr);
  assert.match(
    pushed.stdout,
    new RegExp(`^${view.id}: pushed \\S+ \\([0-9a-f]{12}\\) to origin\\n$`),
  );
  const pr = await json('pr', view.id);
  assert.equal(pr.url, 'https://example.com/o/r/pull/3');
  assert.equal(
    git(bare, 'rev-parse', `refs/heads/${pr.branch}`),
    git(repo, 'rev-parse', pr.branch),
  );
  const missing = await cli('push', 'T-999');
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /^error: task T-999 not found/);
});
