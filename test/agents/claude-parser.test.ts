import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claudeParser } from '../../src/agents/claude.js';
import { fixture, ofType, parseAll } from './fixtures.js';

test('a real Claude Code tool-use run becomes session, messages, a command tool call with its result, per-request usage, reported cost and the result', () => {
  const events = parseAll(claudeParser(), fixture('shared/claude/tool-use-success.stream.jsonl'));
  assert.deepEqual(
    events.map((e) => e.type),
    [
      'session',
      'message',
      'usage',
      'tool_call',
      'tool_result',
      'message',
      'usage',
      'usage',
      'cost',
      'result',
    ],
  );
  const [session] = ofType(events, 'session');
  assert.equal(session?.sessionId, '6fadee8f-6551-4343-b920-84886e5c9a21');
  assert.equal(session?.model, 'claude-opus-4-8[1m]');
  const [call] = ofType(events, 'tool_call');
  assert.equal(call?.name, 'Bash');
  assert.equal(call?.kind, 'command');
  assert.deepEqual(call?.input, {
    command: 'echo hello > out.txt && cat out.txt',
    description: 'Write out.txt',
  });
  const [result] = ofType(events, 'tool_result');
  assert.deepEqual(result, { type: 'tool_result', id: 'toolu_01', status: 'ok', output: 'hello' });
  // One usage per API request (two messages, three lines), then what the result's total adds.
  assert.deepEqual(
    ofType(events, 'usage').map((u) => [u.tokensIn, u.tokensOut, u.scope]),
    [
      [120, 1, 'run'],
      [120, 1, 'run'],
      [0, 50, 'run'],
    ],
  );
  // No model_usage_since_last_result in this older recording: the session's running total.
  assert.deepEqual(ofType(events, 'cost')[0], {
    type: 'cost',
    usd: 0.0025,
    source: 'reported',
    scope: 'session',
  });
  const [final] = ofType(events, 'result');
  assert.equal(final?.ok, true);
  assert.equal(final?.text, 'Created out.txt containing hello. DONE');
  assert.equal(final?.sessionId, session?.sessionId);
});

test("Claude's api_retry notices become retry events with status, attempt and delay", () => {
  const events = parseAll(
    claudeParser(),
    fixture('shared/claude/auth-error-api-retry.stream.jsonl'),
  );
  const retries = ofType(events, 'retry');
  assert.equal(retries.length, 8);
  assert.deepEqual(
    retries.map((r) => r.attempt),
    [1, 2, 3, 4, 5, 6, 7, 8],
  );
  assert.ok(
    retries.every(
      (r) => r.status === 401 && r.maxRetries === 10 && r.message === 'authentication_failed',
    ),
  );
  assert.equal(retries[0]?.delayMs, 556);
  assert.equal(ofType(events, 'result').length, 0, 'the recording was cut before a result');
});

test('malformed lines become parse warnings; unknown events are kept raw; nothing throws', () => {
  const p = claudeParser();
  const text = [
    '{"type":"system","subtype":"init","session_id":"s1"',
    'plain text, not JSON',
    '[1,2,3]',
    '{"type":"stream_event","event":{"type":"content_block_delta"}}',
    '{"type":"system","subtype":"hook_response","hook":"x"}',
    '{"type":"assistant","message":{"content":[{"type":"server_tool_use","id":"x"}]}}',
    '{"type":"assistant","message":"not an object"}',
    '{"type":"result","subtype":"error_max_turns","is_error":true,"session_id":"s1","usage":{}}',
    '',
  ].join('\n');
  const events = parseAll(p, text);
  assert.deepEqual(
    events.map((e) => e.type),
    [
      'parse_warning',
      'parse_warning',
      'parse_warning',
      'raw',
      'raw',
      'raw',
      'usage',
      'error',
      'result',
    ],
  );
  const [final] = ofType(events, 'result');
  assert.equal(final?.ok, false);
  assert.match(final?.text ?? '', /error_max_turns/);
});

test('thinking blocks and failed tool results are recognised', () => {
  const events = parseAll(
    claudeParser(),
    [
      '{"type":"assistant","message":{"content":[{"type":"thinking","thinking":"Let me look."},{"type":"tool_use","id":"t1","name":"Edit","input":{"file_path":"a.ts"}}]}}',
      '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":[{"type":"text","text":"File not found"}]}]}}',
    ].join('\n'),
  );
  assert.deepEqual(events[0], { type: 'thinking', text: 'Let me look.' });
  assert.equal(ofType(events, 'tool_call')[0]?.kind, 'file_edit');
  assert.deepEqual(ofType(events, 'tool_result')[0], {
    type: 'tool_result',
    id: 't1',
    status: 'error',
    output: 'File not found',
  });
});
