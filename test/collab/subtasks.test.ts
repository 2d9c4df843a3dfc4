/**
 * Subtasks as an agent makes them: a scripted agent (a node script run by a
 * real `agentboard serve`) creates child tasks through the real CLI, found on
 * its PATH through the environment contract, and waits for them with
 * `agentboard task wait`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ServeProcess } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { cliJson, runCli } from './cli.js';

/**
 * The agent: for a "Plan:" task it splits the work into two subtasks (or, with
 * "no wait", one unassigned subtask it does not wait for); otherwise it does
 * the work. Each step is logged with the time and the task it ran for.
 */
const AGENT = `
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
const prompt = fs.readFileSync(0, 'utf8');
const me = process.env.AGENTBOARD_TASK_ID;
const log = (what) => fs.appendFileSync(process.env.AGENT_LOG, JSON.stringify({ at: Date.now(), task: me, what }) + '\\n');
const agentboard = (...args) => execFileSync('agentboard', args, { encoding: 'utf8' });
if (prompt.includes('Plan: no wait')) {
  agentboard('task', 'add', 'Unassigned part', '--parent', me);
  log('created');
} else if (prompt.includes('Plan:')) {
  const ids = ['Part one', 'Part two'].map(
    (t) => JSON.parse(agentboard('task', 'add', t, '--parent', me, '--agent', 'bot', '--json')).id,
  );
  log('created ' + ids.join(' '));
  agentboard('task', 'wait', ...ids, '--timeout', '90s');
  log('waited');
} else {
  log('working');
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
  log('done');
}
`;

async function serveBoard(t: { after: (fn: () => Promise<unknown>) => void }) {
  const root = tempDir('agentboard-subtasks-');
  const home = path.join(root, '.agentboard');
  const script = path.join(root, 'agent.mjs');
  const log = path.join(root, 'agent.log');
  fs.writeFileSync(script, AGENT);
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(
    path.join(home, 'config.yaml'),
    [
      'agents:',
      '  bot:',
      '    kind: command',
      `    command: ${JSON.stringify(process.execPath)}`,
      `    args: [${JSON.stringify(script)}]`,
      `    env: { AGENT_LOG: ${JSON.stringify(log)} }`,
      'defaults:',
      '  max_attempts: 1',
      'board:',
      '  on_success: done',
      '',
    ].join('\n'),
  );
  const serve = new ServeProcess(home);
  t.after(() => serve.kill('SIGKILL'));
  await serve.waitReady();
  const entries = () =>
    fs.existsSync(log)
      ? fs
          .readFileSync(log, 'utf8')
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l) as { at: number; task: string; what: string })
      : [];
  return { home, serve, entries };
}

describe('subtasks made by an agent', () => {
  test('an agent creates two subtasks with the CLI, waits for them, and finishes after them', async (t) => {
    const { home, serve, entries } = await serveBoard(t);
    const parent = await cliJson(home, ['task', 'add', 'Plan: build it', '--agent', 'bot']);
    assert.equal(parent.id, 'T-1');
    const waited = await runCli(home, ['task', 'wait', 'T-1', '--timeout', '120s']);
    assert.equal(waited.code, 0, waited.stderr);
    assert.equal(waited.stdout, 'T-1 done\n');

    const log = entries();
    assert.deepEqual(log.map((e) => `${e.task} ${e.what}`).sort(), [
      'T-1 created T-2 T-3',
      'T-1 waited',
      'T-2 done',
      'T-2 working',
      'T-3 done',
      'T-3 working',
    ]);
    const at = (what: string) => log.find((e) => `${e.task} ${e.what}` === what)?.at ?? NaN;
    assert.ok(at('T-1 waited') >= Math.max(at('T-2 done'), at('T-3 done')), 'waited for both');

    const show = await cliJson(home, ['task', 'show', 'T-1']);
    assert.equal(show.status, 'done');
    assert.deepEqual(
      show.children.map((c: { id: string; status: string }) => [c.id, c.status]),
      [
        ['T-2', 'done'],
        ['T-3', 'done'],
      ],
    );
    const kids = show.subtasks as { id: string; runs: { state: string; endedAt: string }[] }[];
    const [parentRun] = show.runs as { state: string; endedAt: string }[];
    assert.equal(show.runs.length, 1, 'one run: the wait succeeded, no retry');
    assert.equal(parentRun?.state, 'succeeded');
    for (const k of kids) {
      assert.deepEqual(
        k.runs.map((r) => r.state),
        ['succeeded'],
      );
      assert.ok(Date.parse(parentRun?.endedAt ?? '') >= Date.parse(k.runs[0]?.endedAt ?? ''));
    }

    const text = await runCli(home, ['task', 'show', 'T-1']);
    assert.match(
      text.stdout,
      /\nSubtasks \(2\)\n {2}T-2 Done {2}Part one {2}1 run, last r\S+ succeeded\n {2}T-3 Done/,
    );

    const tree = await (await serve.fetch('/api/v1/tasks/T-1/tree')).json();
    assert.equal(tree.size, 3);
    assert.equal(tree.truncated, false);
    assert.equal(tree.root.id, 'T-1');
    assert.deepEqual(
      tree.root.children.map((c: { id: string; status: string; runs: unknown[] }) => [
        c.id,
        c.status,
        c.runs.length,
      ]),
      [
        ['T-2', 'done', 1],
        ['T-3', 'done', 1],
      ],
    );
  });

  test('a parent whose agent did not wait waits in Review; the last subtask done makes it Done', async (t) => {
    const { home } = await serveBoard(t);
    await cliJson(home, ['task', 'add', 'Plan: no wait', '--agent', 'bot']);
    const early = await runCli(home, ['task', 'wait', 'T-1', '--timeout', '20s', '--review-ok']);
    assert.equal(early.code, 0, early.stderr);
    const held = await cliJson(home, ['task', 'show', 'T-1']);
    assert.equal(held.status, 'review');
    assert.equal(held.statusReason, 'waiting for subtasks: T-2 (todo)');

    const timeout = await runCli(home, ['task', 'wait', 'T-1', '--timeout', '300ms']);
    assert.equal(timeout.code, 1);
    assert.match(timeout.stderr, /^error: timed out after \d+ms: T-1 is review\n$/);
    const refused = await runCli(home, ['task', 'move', 'T-1', 'done']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /subtasks are open: T-2 \(todo\)/);

    await cliJson(home, ['task', 'move', 'T-2', 'done']);
    const after = await cliJson(home, ['task', 'show', 'T-1']);
    assert.equal(after.status, 'done');
    assert.equal(after.statusReason, null);
    const done = await runCli(home, ['task', 'wait', 'T-1', 'T-2']);
    assert.equal(done.code, 0);
  });

  test('task wait exits 1 naming a Blocked or Cancelled task', async () => {
    const home = path.join(tempDir('agentboard-wait-'), 'home');
    await cliJson(home, ['task', 'add', 'Idle', '--status', 'backlog']);
    await cliJson(home, ['task', 'add', 'Dropped', '--status', 'backlog']);
    await cliJson(home, ['task', 'cancel', 'T-2']);
    const r = await runCli(home, ['task', 'wait', 'T-1', 'T-2', '--json']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'error: T-2 is cancelled: cancelled by user\n');
    const out = JSON.parse(r.stdout);
    assert.equal(out.outcome, 'failed');
    const missing = await runCli(home, ['task', 'wait', 'T-9']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: task T-9 not found/);
  });
});
