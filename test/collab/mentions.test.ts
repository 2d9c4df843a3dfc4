import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { showTask } from '../../src/app/read-task.js';
import { addTask, commentOnTask } from '../../src/app/tasks.js';
import { ConflictError, UsageError } from '../../src/domain/errors.js';
import { mentionedAgents } from '../../src/domain/mentions.js';
import { commentsOf } from '../../src/store/comments.js';
import { listRuns } from '../../src/store/runs.js';
import {
  readRunFile,
  runsOf,
  shAgent,
  startBoard,
  task,
  taskNo,
  waitForRun,
  waitForStatus,
} from '../engine/harness.js';
import { sqliteBoard, testConfig } from '../support/board.js';

const AGENTS = ['claude', 'codex', 'bot'];

describe('mentionedAgents (pure)', () => {
  test('finds configured agents, once each, in order of first mention, in any case', () => {
    assert.deepEqual(mentionedAgents('@codex then @Claude, and @codex again', AGENTS), [
      'codex',
      'claude',
    ]);
    assert.deepEqual(mentionedAgents('(@bot) please; @bot.', AGENTS), ['bot']);
    assert.deepEqual(mentionedAgents('@claude-, look', AGENTS), ['claude']);
  });

  test('ignores unknown names, e-mail addresses, longer names and code', () => {
    assert.deepEqual(mentionedAgents('@someone and @claudia', AGENTS), []);
    assert.deepEqual(mentionedAgents('mail me@claude or a.b@bot', AGENTS), []);
    assert.deepEqual(mentionedAgents('@claude-old and @bot_2 and @@bot', AGENTS), []);
    assert.deepEqual(mentionedAgents('run `@claude fix` literally', AGENTS), []);
    const fenced = ['```', '@claude inside a fence', '```', '~~~~', '@codex', '~~~~', '@bot'];
    assert.deepEqual(mentionedAgents(fenced.join('\n'), AGENTS), ['bot']);
    assert.deepEqual(mentionedAgents('```\n@claude never closed', AGENTS), []);
  });
});

describe('a comment that mentions an agent', () => {
  test('starts a run of it on the task whose prompt (its stdin) is the comment', async (t) => {
    const b = await startBoard({
      agents: { writer: shAgent('exit 0'), reviewer: shAgent('cat') },
      board: { on_success: 'review' },
    });
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Write the parser', agent: 'writer' }));
    await waitForStatus(b.app, id, 'review');

    const text = 'Looks close. @reviewer please check the edge cases:\n- empty input\n- `@writer`';
    const c = await commentOnTask(b.app, id, 'ana', text);
    assert.equal(c.mentionRun?.agent, 'reviewer');
    assert.equal(c.mentionRun?.trigger, 'mention');
    const run = await waitForRun(b.app, id, 'succeeded', 10_000);
    assert.equal(run.id, c.mentionRun?.id);
    assert.equal(run.prompt, text);
    assert.equal(readRunFile(b.app, run.id, 'stdout.log'), text);
    assert.equal((await task(b.app, id)).status, 'review');
    const runs = await runsOf(b.app, id);
    assert.deepEqual(
      runs.map((r) => [r.agent, r.trigger]),
      [
        ['writer', 'autostart'],
        ['reviewer', 'mention'],
      ],
    );
    assert.equal(run.previous_run_id, runs[0]?.id);
  });
});

describe('mention rules (no engine)', () => {
  const config = () =>
    testConfig({
      agents: {
        claude: { kind: 'claude', command: 'claude' },
        bot: { kind: 'command', command: 'true' },
        helper: { kind: 'command', command: 'true' },
      },
      board: { autostart: false },
    });

  test('a session-capable agent resumes its last session on the task; a command agent starts fresh', async () => {
    const app = await sqliteBoard().open({ config: config() });
    try {
      const id = taskNo(await addTask(app, { title: 'T' }));
      const c1 = await commentOnTask(app, id, 'ana', '@claude start here');
      assert.equal(c1.mentionRun?.agent, 'claude');
      assert.equal(
        (await listRuns(app.store.db, { taskId: id }))[0]?.resume_session_id,
        null,
        'no session yet',
      );
      // The run ran and left a session id (as the claude adapter records it).
      await app.store.db
        .updateTable('runs')
        .set({ state: 'succeeded', session_id: 'sess-1', ended_at: Date.now() })
        .where('id', '=', c1.mentionRun?.id as string)
        .execute();
      await app.store.db.updateTable('tasks').set({ status: 'review' }).execute();
      const c2 = await commentOnTask(app, id, 'ana', '@claude now the tests');
      const [second] = await listRuns(app.store.db, { taskId: id, limit: 1 });
      assert.equal(second?.id, c2.mentionRun?.id);
      assert.equal(second?.resume_session_id, 'sess-1');
      assert.equal(second?.prompt, '@claude now the tests');
      assert.equal(second?.previous_run_id, c1.mentionRun?.id);
    } finally {
      await app.store.close();
    }
  });

  test('refused while the task has an active run, naming it; the comment is not stored', async () => {
    const app = await sqliteBoard().open({ config: config() });
    try {
      const id = taskNo(await addTask(app, { title: 'T' }));
      const first = await commentOnTask(app, id, 'ana', '@bot go');
      const runId = first.mentionRun?.id as string;
      await assert.rejects(
        () => commentOnTask(app, id, 'ana', '@helper also look'),
        (e) =>
          e instanceof ConflictError &&
          e.code === 'run_active' &&
          e.message.includes(runId) &&
          e.message.includes('@helper'),
      );
      assert.equal((await commentsOf(app.store.db, id)).length, 1);
      assert.equal((await listRuns(app.store.db, { taskId: id })).length, 1);
      // Without the @ it is only a comment.
      const plain = await commentOnTask(app, id, 'ana', 'helper, also look');
      assert.equal(plain.mentionRun, null);
    } finally {
      await app.store.close();
    }
  });

  test('one agent per comment; an author does not mention itself into a run', async () => {
    const app = await sqliteBoard().open({ config: config() });
    try {
      const id = taskNo(await addTask(app, { title: 'T' }));
      await assert.rejects(
        () => commentOnTask(app, id, 'ana', '@bot and @helper'),
        (e) => e instanceof UsageError && /@bot and @helper/.test(e.message),
      );
      assert.equal((await showTask(app, id)).comments.length, 0);
      const own = await commentOnTask(app, id, 'bot', 'note to self: @bot did this');
      assert.equal(own.mentionRun, null);
      assert.equal((await showTask(app, id)).status, 'todo');
    } finally {
      await app.store.close();
    }
  });
});
