import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { readMessages } from '../../src/app/messages.js';
import { startRun } from '../../src/app/runs.js';
import { addTask, cancelTask } from '../../src/app/tasks.js';
import { runsOf, shAgent, startBoard, taskNo, waitForStatus } from '../engine/harness.js';
import { sqliteBoard, testConfig } from '../support/board.js';
import { tempDir } from '../support/tmp.js';
import { cliJson, runCli, spawnCli } from './cli.js';

async function until<T>(what: string, probe: () => T | undefined | false, ms = 10_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('agentboard bus', () => {
  test('post: the text, or standard input; on a task or the board; a bad type is a usage error', async () => {
    const home = path.join(tempDir('agentboard-bus-'), 'home');
    await cliJson(home, ['task', 'add', 'Parser']);
    const m1 = await cliJson(home, [
      'bus',
      'post',
      '--task',
      'T-1',
      '--type',
      'fact',
      'uses LL(1)',
    ]);
    assert.deepEqual(
      [m1.id, m1.taskId, m1.type, m1.author, m1.body],
      [1, 'T-1', 'FACT', 'tester', 'uses LL(1)'],
    );
    const m2 = await cliJson(home, ['bus', 'post', '--task', 't-1'], {
      input: 'line one\nline two\n',
    });
    assert.deepEqual([m2.type, m2.body], ['PROGRESS', 'line one\nline two\n']);
    const m3 = await cliJson(home, ['bus', 'post', '--type', 'DECISION', 'ship Friday']);
    assert.equal(m3.taskId, null);

    const bad = await runCli(home, ['bus', 'post', '--type', 'GOSSIP', 'psst']);
    assert.equal(bad.code, 2);
    assert.equal(
      bad.stderr,
      'error: unknown message type "GOSSIP": use one of PROGRESS, FACT, DECISION, QUESTION, ERROR\n',
    );
    const spoof = await runCli(home, ['bus', 'post', '--type', 'RUN_STOP', 'fake']);
    assert.equal(spoof.code, 2, 'RUN_START/RUN_STOP are posted by runs only');
    assert.match(spoof.stderr, /^error: RUN_STOP is reserved: the board posts it itself/);
    const spoofStart = await runCli(home, ['bus', 'post', '--type', 'run_start', 'fake']);
    assert.equal(spoofStart.code, 2);
    assert.match(spoofStart.stderr, /^error: RUN_START is reserved/);
    const empty = await runCli(home, ['bus', 'post', '--task', 'T-1'], { input: '  \n' });
    assert.equal(empty.code, 2);
    assert.match(empty.stderr, /^error: a message needs text\n$/);
    const missing = await runCli(home, ['bus', 'post', '--task', 'T-9', 'hello']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: task T-9 not found/);

    const all = await cliJson(home, ['bus', 'read']);
    assert.deepEqual(
      all.map((m: { id: number }) => m.id),
      [1, 2, 3],
      'the refused posts stored nothing',
    );
    const onTask = await cliJson(home, ['bus', 'read', '--task', 'T-1', '--tail', '1']);
    assert.deepEqual(
      onTask.map((m: { id: number }) => m.id),
      [2],
    );
    const text = await runCli(home, ['bus', 'read', '--tail', '2']);
    assert.equal(text.code, 0);
    const lines = text.stdout.trimEnd().split('\n');
    assert.match(lines[0] as string, /^\S+Z T-1 PROGRESS tester:$/);
    assert.deepEqual(lines.slice(1, 3), ['  line one', '  line two']);
    assert.match(lines[3] as string, /^\S+Z board DECISION tester: ship Friday$/);
  });

  test('read --follow prints new messages as other processes post them', async (t) => {
    const home = path.join(tempDir('agentboard-bus-'), 'home');
    await cliJson(home, ['task', 'add', 'A']);
    await cliJson(home, ['task', 'add', 'B']);
    await cliJson(home, ['bus', 'post', '--task', 'T-1', 'before']);
    const f = spawnCli(home, ['bus', 'read', '--task', 'T-1', '--follow', '--json']);
    t.after(() => f.child.kill('SIGKILL'));
    const parse = () =>
      f
        .out()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { body: string });
    await until('the existing message', () => parse().length === 1);
    await cliJson(home, ['bus', 'post', '--task', 'T-2', 'other task']);
    await cliJson(home, ['bus', 'post', '--task', 'T-1', '--type', 'question'], {
      input: 'after?',
    });
    const seen = await until('the new message', () => (parse().length >= 2 ? parse() : false));
    assert.deepEqual(
      seen.map((m) => m.body),
      ['before', 'after?'],
    );
    assert.equal(f.child.exitCode, null, 'still following');
  });
});

describe('runs post RUN_START and RUN_STOP themselves', () => {
  test('with the error summary for a failing run; an agent posts through the CLI it is given', async (t) => {
    const b = await startBoard(
      {
        agents: {
          // $AGENTBOARD_CLI names the same launcher the PATH finds as `agentboard`.
          bot: shAgent(
            'test "$(command -v agentboard)" = "$AGENTBOARD_CLI" && "$AGENTBOARD_CLI" bus post --type error "about to fail" && echo boom >&2; exit 3',
          ),
        },
        defaults: { max_attempts: 1 },
      },
      { api: true },
    );
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Doomed', agent: 'bot' }));
    await waitForStatus(b.app, id, 'blocked', 15_000);
    const { items } = await readMessages(b.app, { taskId: id, after: 0, limit: 10 });
    assert.deepEqual(
      items.map((m) => [m.type, m.author]),
      [
        ['RUN_START', 'bot'],
        ['ERROR', 'bot'],
        ['RUN_STOP', 'bot'],
      ],
    );
    const [start, posted, stop] = items;
    const runId = start?.runId as string;
    assert.ok(runId);
    assert.equal(posted?.runId, runId, 'a post inside a run is about that run');
    assert.equal(posted?.body, 'about to fail');
    assert.equal(stop?.runId, runId);
    assert.match(
      start?.body as string,
      new RegExp(`^run ${runId} started \\(autostart, attempt 1/1`),
    );
    assert.match(
      stop?.body as string,
      new RegExp(`^run ${runId} failed \\(exit 3\\) after \\S+: `),
    );
    assert.match(stop?.body as string, /exit(ed with)? (code )?3/);
    assert.match(stop?.body as string, /boom/);
  });

  test('a succeeding run posts RUN_STOP without a summary', async (t) => {
    const b = await startBoard({ agents: { bot: shAgent('exit 0') }, board: { autostart: false } });
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Fine', agent: 'bot', status: 'todo' }));
    await startRun(b.app, id);
    await waitForStatus(b.app, id, 'review', 15_000);
    const { items } = await readMessages(b.app, { taskId: id, after: 0, limit: 10 });
    assert.deepEqual(
      items.map((m) => m.type),
      ['RUN_START', 'RUN_STOP'],
    );
    assert.match(items[1]?.body as string, /^run \S+ succeeded \(exit 0\) after \S+$/);
  });

  test('a queued run cancelled before it starts posts nothing', async () => {
    const app = await sqliteBoard().open({ config: testConfig({ board: { autostart: false } }) });
    try {
      const id = taskNo(await addTask(app, { title: 'Never', agent: 'bot' }));
      await startRun(app, id);
      await cancelTask(app, id);
      assert.equal((await runsOf(app, id))[0]?.state, 'cancelled');
      assert.deepEqual((await readMessages(app, { after: 0, limit: 10 })).items, []);
    } finally {
      await app.store.close();
    }
  });
});
