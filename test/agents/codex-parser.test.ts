import assert from 'node:assert/strict';
import { test } from 'node:test';
import { codexParser } from '../../src/agents/codex.js';
import { fixture, ofType, parseAll } from './fixtures.js';

test('a real Codex run against a failing API: session, reconnect notices as retries, then a fatal error and a failed result', () => {
  const events = parseAll(codexParser(), fixture('shared/codex/server-error-reconnects.jsonl'));
  const [session] = ofType(events, 'session');
  assert.equal(session?.sessionId, '01a1ff97-0ac8-7ff2-8faa-d1ab28ce4107');
  const retries = ofType(events, 'retry');
  assert.deepEqual(
    retries.map((r) => [r.attempt, r.maxRetries]),
    [
      [1, 5],
      [2, 5],
      [3, 5],
      [4, 5],
      [5, 5],
    ],
  );
  assert.match(retries[0]?.message ?? '', /high demand/);
  const errors = ofType(events, 'error');
  assert.ok(errors.some((e) => e.fatal && /high demand/.test(e.message)));
  assert.ok(
    errors.some((e) => /Model metadata/.test(e.message)),
    'the warning item is kept as an error event',
  );
  const [final] = ofType(events, 'result');
  assert.equal(final?.ok, false);
  assert.equal(final?.sessionId, session?.sessionId);
});

test('codex command executions become a command tool call then its result; usage counts cached input apart', () => {
  const events = parseAll(
    codexParser(),
    [
      '{"type":"thread.started","thread_id":"th1"}',
      '{"type":"turn.started"}',
      '{"type":"item.completed","item":{"id":"item_0","type":"reasoning","text":"Planning"}}',
      '{"type":"item.started","item":{"id":"item_1","type":"command_execution","command":"bash -lc \'echo hi > out.txt\'","aggregated_output":"","exit_code":null,"status":"in_progress"}}',
      '{"type":"item.completed","item":{"id":"item_1","type":"command_execution","command":"bash -lc \'echo hi > out.txt\'","aggregated_output":"","exit_code":0,"status":"completed"}}',
      '{"type":"item.completed","item":{"id":"item_2","type":"agent_message","text":"Done."}}',
      '{"type":"turn.completed","usage":{"input_tokens":1000,"cached_input_tokens":400,"output_tokens":50}}',
    ].join('\n'),
  );
  assert.deepEqual(
    events.map((e) => e.type),
    ['session', 'thinking', 'tool_call', 'tool_result', 'message', 'usage', 'result'],
  );
  assert.equal(ofType(events, 'tool_call')[0]?.kind, 'command');
  assert.equal(ofType(events, 'tool_result')[0]?.status, 'ok');
  assert.deepEqual(ofType(events, 'usage')[0], {
    type: 'usage',
    tokensIn: 600,
    tokensOut: 50,
    cacheRead: 400,
    cacheWrite: 0,
    scope: 'session',
  });
  assert.deepEqual(ofType(events, 'result')[0], {
    type: 'result',
    ok: true,
    text: 'Done.',
    sessionId: 'th1',
  });
});

test('codex: malformed and unknown lines never throw', () => {
  const events = parseAll(
    codexParser(),
    '{"type":"turn.started"\n{"type":"future.event","x":1}\n{"type":"item.completed"}\n',
  );
  assert.deepEqual(
    events.map((e) => e.type),
    ['parse_warning', 'raw', 'raw'],
  );
});
