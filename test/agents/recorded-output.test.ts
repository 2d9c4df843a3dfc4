import assert from 'node:assert/strict';
import { test } from 'node:test';
import { claudeParser } from '../../src/agents/claude.js';
import { codexParser } from '../../src/agents/codex.js';
import type { TranscriptParser } from '../../src/agents/events.js';
import { geminiParser } from '../../src/agents/gemini.js';
import { fixture, ofType, parseAll } from './fixtures.js';

/** Real output of the CLIs from npm, recorded against the scripted model servers (test/fixtures/recorded). */
const PARSERS: Record<string, () => TranscriptParser> = {
  claude: claudeParser,
  codex: codexParser,
  gemini: geminiParser,
};

const API_MESSAGE: Record<string, RegExp> = {
  claude: /Invalid API key/,
  codex: /401 Unauthorized: Incorrect API key/,
  gemini: /API key not valid/,
};

for (const [cli, parser] of Object.entries(PARSERS)) {
  const load = (scenario: string) =>
    parseAll(parser(), fixture(`recorded/${cli}/${scenario}.jsonl`));

  test(`${cli}: the tool-use run parses into a command tool call, its result, usage and a successful result`, () => {
    const events = load('tool-use-success');
    assert.equal(ofType(events, 'parse_warning').length, 0);
    const [session] = ofType(events, 'session');
    assert.ok(session?.sessionId);
    const [call] = ofType(events, 'tool_call');
    assert.equal(call?.kind, 'command');
    assert.match(JSON.stringify(call?.input), /echo hello > out\.txt/);
    const [result] = ofType(events, 'tool_result');
    assert.equal(result?.id, call?.id);
    assert.equal(result?.status, 'ok');
    assert.match(result?.output ?? '', /hello/);
    const usage = ofType(events, 'usage');
    assert.ok(usage.reduce((n, u) => n + u.tokensIn, 0) > 0);
    const [final] = ofType(events, 'result');
    assert.equal(final?.ok, true);
    assert.match(final?.text ?? '', /DONE/);
    assert.equal(final?.sessionId, session?.sessionId);
    const messages = ofType(events, 'message').map((m) => m.text);
    assert.deepEqual(messages, [
      'I will create the file.',
      'Created out.txt containing hello. DONE',
    ]);
  });

  test(`${cli}: a 401 ends in a failed result carrying the API's message`, () => {
    const events = load('auth-error-401');
    const [final] = ofType(events, 'result');
    assert.equal(final?.ok, false);
    assert.match(final?.text ?? '', API_MESSAGE[cli] as RegExp);
    assert.ok(ofType(events, 'error').some((e) => e.fatal));
  });

  test(`${cli}: a 500 ends in a failed result`, () => {
    const [final] = ofType(load('server-error-500'), 'result');
    assert.equal(final?.ok, false);
  });

  test(`${cli}: a resumed run keeps the session it resumed`, () => {
    const meta = JSON.parse(fixture(`recorded/${cli}/resume.meta.json`)) as { argv: string[] };
    const events = load('resume');
    const [final] = ofType(events, 'result');
    assert.equal(final?.ok, true);
    assert.ok(
      final?.sessionId && meta.argv.includes(final.sessionId),
      'session id differs from the one resumed',
    );
  });
}

test('claude and codex thinking is kept as thinking events', () => {
  for (const cli of ['claude', 'codex']) {
    const events = parseAll(
      (PARSERS[cli] as () => TranscriptParser)(),
      fixture(`recorded/${cli}/thinking.jsonl`),
    );
    assert.ok(ofType(events, 'thinking').length > 0, `${cli}: no thinking`);
  }
});

test('claude and codex 401 retries carry the HTTP status', () => {
  for (const cli of ['claude', 'codex']) {
    const retries = ofType(
      parseAll(
        (PARSERS[cli] as () => TranscriptParser)(),
        fixture(`recorded/${cli}/auth-error-401.jsonl`),
      ),
      'retry',
    );
    assert.ok(
      retries.length > 0 && retries.every((r) => r.status === 401),
      `${cli}: ${JSON.stringify(retries)}`,
    );
  }
});
