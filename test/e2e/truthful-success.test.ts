import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startRun } from '../../src/app/runs.js';
import { SHELL_SUCCESS, SHELL_SUCCESS_FINAL, usageOf } from '../support/model-servers/scenarios.js';
import { describeRun, eventTypes, KINDS, openBoard } from './harness.js';

/**
 * Truthful outcomes (issue 14): a multi-turn tool job really done, and a resumed follow-up whose
 * recorded usage is its own requests' usage, not the session's running total.
 */
for (const kind of KINDS) {
  test(`${kind}: a multi-turn tool job changes the file, its transcript holds calls, results and the final message, and a resumed follow-up records only its own usage`, async (t) => {
    const board = await openBoard(t, { kind, scenario: SHELL_SUCCESS });
    const server = board.server;
    assert.ok(server);
    const id = await board.addTask();
    const first = await board.settle(id);
    const [run] = first.runs;
    assert.equal(first.runs.length, 1, 'one run');
    assert.equal(run?.state, 'succeeded', describeRun(run));
    assert.equal(first.status, 'review');
    assert.equal(fs.readFileSync(path.join(board.workspace, 'out.txt'), 'utf8'), 'hello\n');
    assert.ok(!fs.existsSync(path.join(board.workspace, 'pwned')), 'task text was executed');

    const events = await board.events(run.id);
    const call = events.find((e) => e.type === 'tool_call');
    assert.ok(call?.type === 'tool_call' && call.kind === 'command', eventTypes(events));
    assert.match(JSON.stringify(call.input), /echo hello > out\.txt/);
    const result = events.find((e) => e.type === 'tool_result');
    assert.ok(
      result?.type === 'tool_result' && result.status === 'ok' && /hello/.test(result.output),
      `tool result: ${JSON.stringify(result)}`,
    );
    assert.ok(
      board.toolResults().some((r) => /hello/.test(r)),
      'the CLI did not send the tool result back',
    );
    assert.ok(
      events.some((e) => e.type === 'message' && e.text.includes(SHELL_SUCCESS_FINAL)),
      'no final message in the transcript',
    );
    assert.ok(
      events.some((e) => e.type === 'result' && e.ok),
      `no ok result: ${eventTypes(events)}`,
    );
    assert.equal(run.denials, 0);
    assert.equal(run.unparsed_lines, 0, 'unparsed output lines on a supported CLI');
    assert.ok(run.cli_version, 'the CLI version that ran is not recorded');

    // The first run's usage is what the server counted for it. opencode 1.18.33 makes one side
    // request for a title and never reports its usage in its JSON: that request cannot be counted.
    const firstUsage = usageOf(
      kind === 'opencode' ? server.requests.filter((r) => r.kind !== 'side') : server.requests,
    );
    t.diagnostic(
      `first run: recorded in=${run.tokens_in} out=${run.tokens_out} cache_read=${run.tokens_cache_read}; server counted in=${firstUsage.input} out=${firstUsage.output} cache_read=${firstUsage.cacheRead} over ${firstUsage.requests} requests`,
    );
    const boundary = server.requests.length;

    // The follow-up resumes the session; its usage is counted from the requests after the first run.
    const session = run.session_id;
    assert.ok(session, 'no session id to resume');
    const follow = await startRun(board.app, id, {
      prompt: 'What did you just do? Answer in one line.',
    });
    const ended = await board.waitRun(follow.id);
    assert.equal(ended.state, 'succeeded', describeRun(ended));
    assert.equal(ended.resume_session_id, session);
    assert.equal(ended.session_id, session, 'the follow-up ran in another session');
    const own = usageOf(server.requests.slice(boundary));
    t.diagnostic(
      `follow-up: recorded in=${ended.tokens_in} out=${ended.tokens_out} cache_read=${ended.tokens_cache_read}; server counted in=${own.input} out=${own.output} cache_read=${own.cacheRead} over ${own.requests} requests`,
    );
    assert.ok(own.requests > 0, 'the follow-up made no request');
    assert.deepEqual(
      { in: ended.tokens_in, out: ended.tokens_out, cacheRead: ended.tokens_cache_read },
      { in: own.input, out: own.output, cacheRead: own.cacheRead },
      "the follow-up's recorded usage is not its own requests' usage",
    );
    assert.deepEqual(
      { in: run.tokens_in, out: run.tokens_out },
      { in: firstUsage.input, out: firstUsage.output },
      "the first run's recorded usage is not its requests' usage",
    );
  });
}
