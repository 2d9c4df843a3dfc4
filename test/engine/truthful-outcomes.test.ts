import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import { readRunEvents } from '../../src/store/run-events.js';
import { getRun } from '../../src/store/runs.js';
import { FIXTURES, runsOf, startBoard, taskNo, waitFor, waitForStatus } from './harness.js';

/**
 * A run's verdict, usage and error come from the agent's own account (DESIGN §8),
 * shown with each CLI's recorded output replayed by a scripted agent (replay-agent.mjs)
 * through the engine, with retries allowed (max_attempts 3) so a pointless retry fails.
 */
const RECORDED = path.join(FIXTURES, '../fixtures/recorded');

interface Invocation {
  stdout: string;
  stderr?: string;
  code?: number;
}

/** An agent of `kind` whose binary replays `invocations`, one per run, the last one again after. */
function replayAgent(root: string, kind: string, invocations: Invocation[], version = '9.8.7') {
  const dir = path.join(root, `replay-${kind}`);
  fs.mkdirSync(dir, { recursive: true });
  invocations.forEach((inv, i) => {
    fs.writeFileSync(path.join(dir, `${i + 1}.stdout`), inv.stdout);
    fs.writeFileSync(path.join(dir, `${i + 1}.stderr`), inv.stderr ?? '');
    fs.writeFileSync(path.join(dir, `${i + 1}.code`), String(inv.code ?? 0));
  });
  return {
    dir,
    config: {
      kind,
      command: path.join(FIXTURES, 'replay-agent.mjs'),
      env: { REPLAY_DIR: dir, REPLAY_VERSION: version },
      token: 'sk-replay',
      // The CLI's own budget flag would be passed otherwise; nothing here is about budgets.
      stop_on_auth_error: true,
    },
  };
}

function recorded(cli: string, scenario: string): Invocation {
  const base = path.join(RECORDED, cli, scenario);
  const meta = JSON.parse(fs.readFileSync(`${base}.meta.json`, 'utf8')) as { exitCode: number };
  return {
    stdout: fs.readFileSync(`${base}.jsonl`, 'utf8'),
    stderr: fs.readFileSync(`${base}.stderr.txt`, 'utf8'),
    code: meta.exitCode,
  };
}

async function board(kind: string, invocations: Invocation[]) {
  let agentDir = '';
  const b = await startBoard((root) => {
    const a = replayAgent(root, kind, invocations);
    agentDir = a.dir;
    // A replayed CLI writes nothing: the board's home inside its workspace is not this test's subject.
    return {
      agents: { [kind]: { ...a.config, allow_board_writes: true } },
      defaults: { max_attempts: 3 },
    };
  });
  return { b, agentDir };
}

const ESC = String.fromCharCode(27);

function assertPlainSentence(summary: string | null): void {
  assert.ok(summary, 'no summary');
  assert.ok(!summary.includes(ESC), `escape codes in ${summary}`);
  assert.ok(!/^\s*at\s/m.test(summary), `stack frame in ${summary}`);
  assert.ok(!summary.includes('\n'), `more than one line: ${summary}`);
}

describe('truthful outcomes', () => {
  test('exit 0 with output the adapter does not recognise: failed once, not retried, naming the CLI and its version', async (t) => {
    const { b } = await board('claude', [
      { stdout: 'Done! I created out.txt.\nAll good.\n', code: 0 },
    ]);
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'text mode', agent: 'claude' }));
    const card = await waitForStatus(b.app, id, 'blocked', 10_000);
    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 1, 'retried although the same CLI would do the same again');
    const [run] = runs;
    assert.equal(run?.state, 'failed');
    assert.equal(run?.cli_version, '9.8.7');
    assert.equal(run?.unparsed_lines, 2);
    assert.match(
      run?.error_summary ?? '',
      /^no final result from claude 9\.8\.7: output not recognised \(2 unparsed lines\) — is this CLI version supported\?/,
    );
    assert.match(card.status_reason ?? '', /^no final result from claude 9\.8\.7/);
  });

  test('exit 0 with recognised output but no final result: failed once, saying so', async (t) => {
    const init = recorded('claude', 'tool-use-success')
      .stdout.split('\n')
      .filter((l) => l.includes('"subtype":"init"'))
      .join('\n');
    assert.ok(init, 'the recording has an init line');
    const { b } = await board('claude', [{ stdout: `${init}\n`, code: 0 }]);
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'no result', agent: 'claude' }));
    await waitForStatus(b.app, id, 'blocked', 10_000);
    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 1);
    assert.match(
      runs[0]?.error_summary ?? '',
      /^no final result from claude 9\.8\.7: it exited 0 without reporting one/,
    );
  });

  for (const [cli, scenario, word] of [
    ['claude', 'auth-error-401', 'rejected'],
    ['claude', 'auth-expired', 'expired'],
    ['gemini', 'auth-expired', 'expired'],
    ['gemini', 'config-no-auth-type', 'configuration'],
    ['codex', 'auth-error-401', 'rejected'],
  ] as const) {
    test(`${cli} ${scenario}: Blocked after exactly one attempt, one plain sentence saying "${word}"`, async (t) => {
      const { b } = await board(cli, [recorded(cli, scenario)]);
      t.after(() => b.close());
      const id = taskNo(await addTask(b.app, { title: scenario, agent: cli }));
      const card = await waitForStatus(b.app, id, 'blocked', 10_000);
      const runs = await runsOf(b.app, id);
      assert.equal(runs.length, 1, `retried: ${runs.map((r) => r.error_summary).join(' | ')}`);
      const summary = runs[0]?.error_summary ?? null;
      assertPlainSentence(summary);
      assert.match(summary ?? '', new RegExp(word));
      assert.match(summary ?? '', new RegExp(`^${cli} \\(${cli} 9\\.8\\.7\\): `));
      assert.equal(card.status_reason, summary);
    });
  }

  test('denied tool uses: counted on the run, transcript events with the tool, the card goes to Review (not Done) with the count', async (t) => {
    const b = await startBoard((root) => ({
      agents: {
        claude: replayAgent(root, 'claude', [recorded('claude', 'permission-denial')]).config,
      },
      defaults: { max_attempts: 3 },
      board: { on_success: 'done' },
    }));
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'denied', agent: 'claude' }));
    const card = await waitForStatus(b.app, id, 'review', 10_000);
    const [run] = await runsOf(b.app, id);
    assert.equal(run?.state, 'succeeded');
    assert.ok((run?.denials ?? 0) >= 1, 'no denials counted');
    assert.equal(
      card.status_reason,
      `${run?.denials} tool ${run?.denials === 1 ? 'use' : 'uses'} denied`,
    );
    const events = await readRunEvents(b.app.store.db, run?.id ?? '', { afterSeq: 0, limit: 1000 });
    const denials = events.filter((e) => e.event.type === 'denial');
    assert.equal(denials.length, run?.denials);
    assert.ok(denials.every((e) => e.event.type === 'denial' && e.event.tool.length > 0));
  });

  test('a resumed session: the follow-up records its own usage, not the session total', async (t) => {
    const turn = (thread: string, input: number, output: number) =>
      [
        { type: 'thread.started', thread_id: thread },
        { type: 'turn.started' },
        { type: 'item.completed', item: { id: 'item_0', type: 'agent_message', text: 'DONE' } },
        {
          type: 'turn.completed',
          usage: { input_tokens: input, cached_input_tokens: 0, output_tokens: output },
        },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n');
    const thread = '01a250db-60f7-7fe2-abb7-96c6e9ad7de7';
    const { b, agentDir } = await board('codex', [
      { stdout: `${turn(thread, 1000, 100)}\n` },
      { stdout: `${turn(thread, 1600, 160)}\n` },
    ]);
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'usage', agent: 'codex' }));
    await waitForStatus(b.app, id, 'review', 10_000);
    const [first] = await runsOf(b.app, id);
    assert.deepEqual([first?.tokens_in, first?.tokens_out], [1000, 100]);
    const follow = await startRun(b.app, id, { prompt: 'and now?' });
    const ended = await waitFor(
      'follow-up end',
      async () => {
        const r = await getRun(b.app.store.db, follow.id);
        return r && r.ended_at !== null ? r : undefined;
      },
      10_000,
    );
    assert.equal(ended.resume_session_id, thread);
    assert.equal(ended.state, 'succeeded', ended.error_summary ?? '');
    assert.deepEqual([ended.tokens_in, ended.tokens_out], [600, 60]);
    const argv = fs.readFileSync(path.join(agentDir, 'argv.log'), 'utf8').trim().split('\n');
    assert.ok(argv[1]?.includes(thread), 'the follow-up did not resume the thread');
  });

  test('a CLI that reports its usage only at its end and went past the budget: failed for the budget, not retried', async (t) => {
    const usage = (input: number) =>
      [
        { type: 'thread.started', thread_id: '01a250db-60f7-7fe2-abb7-96c6e9ad7de7' },
        { type: 'item.completed', item: { id: 'item_0', type: 'agent_message', text: 'DONE' } },
        { type: 'turn.completed', usage: { input_tokens: input, output_tokens: 100 } },
      ]
        .map((o) => JSON.stringify(o))
        .join('\n');
    const b = await startBoard((root) => ({
      agents: {
        codex: {
          ...replayAgent(root, 'codex', [{ stdout: `${usage(200_000)}\n` }]).config,
          model: 'gpt-5.5',
          max_cost_usd: 0.01,
        },
      },
      defaults: { max_attempts: 3 },
    }));
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'expensive', agent: 'codex' }));
    await waitForStatus(b.app, id, 'blocked', 10_000);
    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 1, 'retried a run that went over its budget');
    assert.equal(runs[0]?.state, 'failed');
    assert.equal(runs[0]?.tokens_in, 200_000, 'the usage was not kept');
    assert.match(
      runs[0]?.error_summary ?? '',
      /^budget exceeded: cost \$\d+\.\d{4} \(estimated\) exceeded the budget of \$0\.01$/,
    );
  });
});
