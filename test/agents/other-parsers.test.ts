import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ampAdapter } from '../../src/agents/amp.js';
import { textParser } from '../../src/agents/command.js';
import { cursorParser } from '../../src/agents/cursor.js';
import { opencodeParser } from '../../src/agents/opencode.js';
import { ofType, parseAll } from './fixtures.js';

// Hand-written samples of the documented stream formats. opencode's real output is also tested in
// recorded-other.test.ts; Cursor's agent is not on npm and Amp needs its vendor's service, so for
// them these samples are all there is (besides Amp's empty stdout on a 401).

test('opencode run --format json: text, a tool with its state, step usage and cost, errors', () => {
  const events = parseAll(
    opencodeParser(),
    [
      '{"type":"step_start","sessionID":"ses_1","part":{"type":"step-start"}}',
      '{"type":"text","sessionID":"ses_1","part":{"type":"text","text":"Creating the file."}}',
      '{"type":"tool_use","sessionID":"ses_1","part":{"type":"tool","tool":"bash","callID":"c1","state":{"status":"completed","input":{"command":"echo hi > a"},"output":"ok"}}}',
      '{"type":"step_finish","sessionID":"ses_1","part":{"type":"step-finish","reason":"stop","tokens":{"input":100,"output":20,"reasoning":5,"cache":{"read":10,"write":0}},"cost":0.0012}}',
      '{"type":"error","sessionID":"ses_1","error":{"name":"APIError","data":{"message":"rate limited"}}}',
      'garbage',
    ].join('\n'),
  );
  assert.deepEqual(
    events.map((e) => e.type),
    [
      'session',
      'message',
      'tool_call',
      'tool_result',
      'usage',
      'cost',
      'result',
      'error',
      'parse_warning',
    ],
  );
  assert.deepEqual(ofType(events, 'usage')[0], {
    type: 'usage',
    tokensIn: 100,
    tokensOut: 25,
    cacheRead: 10,
    cacheWrite: 0,
  });
  assert.equal(ofType(events, 'tool_call')[0]?.kind, 'command');
  assert.equal(ofType(events, 'error')[0]?.message, 'rate limited');
});

test('cursor-agent stream-json: Claude-shaped messages plus tool_call started/completed', () => {
  const events = parseAll(
    cursorParser(),
    [
      '{"type":"system","subtype":"init","session_id":"cur-1","model":"gpt-5"}',
      '{"type":"assistant","message":{"role":"assistant","content":[{"type":"text","text":"Reading the file."}]},"session_id":"cur-1"}',
      '{"type":"tool_call","subtype":"started","call_id":"t1","tool_call":{"readToolCall":{"args":{"path":"README.md"}}},"session_id":"cur-1"}',
      '{"type":"tool_call","subtype":"completed","call_id":"t1","tool_call":{"readToolCall":{"args":{"path":"README.md"},"result":{"success":{"content":"# hi"}}}},"session_id":"cur-1"}',
      '{"type":"result","subtype":"success","is_error":false,"result":"Done","session_id":"cur-1"}',
    ].join('\n'),
  );
  assert.deepEqual(
    events.map((e) => e.type),
    ['session', 'message', 'tool_call', 'tool_result', 'usage', 'result'],
  );
  assert.equal(ofType(events, 'tool_call')[0]?.kind, 'file_read');
  assert.equal(ofType(events, 'tool_result')[0]?.status, 'ok');
  assert.equal(ofType(events, 'result')[0]?.sessionId, 'cur-1');
});

test('amp --stream-json is read with the Claude-compatible parser', () => {
  const events = parseAll(
    ampAdapter.parser(),
    '{"type":"system","subtype":"init","session_id":"T-abc"}\n{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"T-abc","usage":{"input_tokens":5,"output_tokens":2}}\n',
  );
  assert.deepEqual(
    events.map((e) => e.type),
    ['session', 'usage', 'result'],
  );
});

test('command agents: each text line is a message, empty lines are skipped', () => {
  assert.deepEqual(parseAll(textParser(), 'hello\n\nworld\n'), [
    { type: 'message', text: 'hello' },
    { type: 'message', text: 'world' },
  ]);
});
