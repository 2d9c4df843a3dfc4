import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ampAdapter } from '../../src/agents/amp.js';
import { opencodeParser } from '../../src/agents/opencode.js';
import { fixture, ofType, parseAll } from './fixtures.js';

/**
 * Real output of opencode and Amp from npm (test/fixtures/recorded/{opencode,amp}), recorded with
 * test/support/model-servers/record-other.ts. Cursor's agent CLI is not on npm: nothing recorded.
 */
const opencode = (scenario: string) =>
  parseAll(opencodeParser(), fixture(`recorded/opencode/${scenario}.jsonl`));

test('opencode: the tool-use run parses into a command tool call, its result, usage and a successful result', () => {
  const events = opencode('tool-use-success');
  assert.equal(ofType(events, 'parse_warning').length, 0);
  assert.equal(ofType(events, 'raw').length, 0);
  const sessions = ofType(events, 'session');
  assert.equal(sessions.length, 1);
  assert.match(sessions[0]?.sessionId ?? '', /^ses_/);
  assert.deepEqual(
    ofType(events, 'message').map((m) => m.text),
    ['I will create the file.', 'Created out.txt containing hello. DONE'],
  );
  const [call, ...moreCalls] = ofType(events, 'tool_call');
  assert.equal(moreCalls.length, 0);
  assert.equal(call?.name, 'bash');
  assert.equal(call?.kind, 'command');
  assert.match(JSON.stringify(call?.input), /echo hello > out\.txt/);
  const [result] = ofType(events, 'tool_result');
  assert.equal(result?.id, call?.id);
  assert.equal(result?.status, 'ok');
  assert.equal(result?.output, 'hello\n');
  // One usage per step (the tool step and the final one); the scripted provider reports no cost.
  const usage = ofType(events, 'usage');
  assert.equal(usage.length, 2);
  assert.ok(usage.every((u) => u.tokensIn > 0 && u.tokensOut > 0));
  assert.equal(ofType(events, 'cost').length, 0);
  const results = ofType(events, 'result');
  assert.equal(results.length, 1);
  assert.deepEqual(results[0], {
    type: 'result',
    ok: true,
    text: 'Created out.txt containing hello. DONE',
    sessionId: sessions[0]?.sessionId,
  });
  assert.equal(events.at(-1)?.type, 'result');
});

test("opencode: a 401 is a fatal error with the status and a failed result carrying the API's message", () => {
  const events = opencode('auth-error-401');
  assert.equal(ofType(events, 'parse_warning').length, 0);
  assert.deepEqual(ofType(events, 'error'), [
    { type: 'error', message: 'invalid x-api-key', status: 401, fatal: true, category: 'auth' },
  ]);
  const [session] = ofType(events, 'session');
  const results = ofType(events, 'result');
  assert.equal(results.length, 1);
  assert.equal(results[0]?.ok, false);
  assert.match(results[0]?.text ?? '', /invalid x-api-key/);
  assert.equal(results[0]?.sessionId, session?.sessionId);
});

test('opencode: a run resumed with --session keeps the session it resumed', () => {
  const meta = JSON.parse(fixture('recorded/opencode/resume.meta.json')) as { argv: string[] };
  const events = opencode('resume');
  const [final] = ofType(events, 'result');
  assert.equal(final?.ok, true);
  assert.equal(final?.text, 'I created out.txt with the shell tool. DONE');
  assert.ok(
    final?.sessionId && meta.argv.join(' ').includes(final.sessionId),
    'session id differs from the one resumed',
  );
});

test('amp: a 401 from the Amp service prints nothing on stdout (the error is on stderr only)', () => {
  // Amp has no model base URL (AMP_URL is the whole Amp service), so only this was recordable.
  assert.equal(fixture('recorded/amp/auth-error-401.jsonl'), '');
  assert.match(fixture('recorded/amp/auth-error-401.stderr.txt'), /Invalid or missing API key/);
  const meta = JSON.parse(fixture('recorded/amp/auth-error-401.meta.json')) as {
    exitCode: number;
  };
  assert.equal(meta.exitCode, 1);
  assert.deepEqual(parseAll(ampAdapter.parser(), fixture('recorded/amp/auth-error-401.jsonl')), []);
});
