/**
 * Issue 14, "Truthful outcomes", for Claude Code, Codex CLI and Gemini CLI: what their real
 * output (test/fixtures/recorded, see its README) turns into. Auth errors with their category
 * and the provider's own words, denials exactly once, retries, budget stops with their usage,
 * run-own usage on resumed sessions, exit diagnoses, and parser snapshots that never repeat.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AgentAdapter } from '../../src/agents/adapter.js';
import { ampAdapter } from '../../src/agents/amp.js';
import { claudeAdapter, claudeParser } from '../../src/agents/claude.js';
import { codexAdapter, codexParser } from '../../src/agents/codex.js';
import type { AgentEvent, TranscriptParser } from '../../src/agents/events.js';
import { geminiAdapter, geminiStderrParser } from '../../src/agents/gemini.js';
import { RunUsage } from '../../src/engine/run-usage.js';
import { fixture, ofType, parseAll } from './fixtures.js';

type Cli = 'claude' | 'codex' | 'gemini';
const ADAPTERS: Record<Cli, AgentAdapter> = {
  claude: claudeAdapter,
  codex: codexAdapter,
  gemini: geminiAdapter,
};

const load = (cli: Cli, name: string) =>
  parseAll(ADAPTERS[cli].parser(), fixture(`recorded/${cli}/${name}.jsonl`));
const stderrOf = (cli: Cli, name: string) => fixture(`recorded/${cli}/${name}.stderr.txt`);

const RECORDINGS: Record<Cli, string[]> = {
  claude: [
    'tool-use-success',
    'thinking',
    'resume',
    'auth-expired',
    'rate-limit-429',
    'permission-denial',
    'budget',
  ],
  codex: [
    'tool-use-success',
    'thinking',
    'resume',
    'auth-expired',
    'rate-limit-429',
    'permission-denial',
  ],
  gemini: ['tool-use-success', 'thinking', 'resume', 'auth-expired', 'permission-denial'],
};

interface Meta {
  exitCode: number | null;
  requests: Array<{ seq: number; inputTokens: number; kind: string }>;
  resumedFrom?: { requests: number };
}
const meta = (cli: Cli, name: string) =>
  JSON.parse(fixture(`recorded/${cli}/${name}.meta.json`)) as Meta;

function sum(events: AgentEvent[], key: 'tokensIn' | 'tokensOut') {
  return ofType(events, 'usage').reduce((n, u) => n + u[key], 0);
}

/** One plain line: no newline, no escape codes, no stack frame, no JSON blob. */
function assertPlain(message: string) {
  assert.doesNotMatch(message, /\n/);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for escape codes
  assert.doesNotMatch(message, /\x1b/);
  assert.doesNotMatch(message, /\bat .*:\d+:\d+/);
  assert.doesNotMatch(message, /[{}]/);
}

function onlyFatal(events: AgentEvent[]) {
  const fatal = ofType(events, 'error').filter((e) => e.fatal);
  assert.equal(fatal.length, 1, JSON.stringify(ofType(events, 'error')));
  return fatal[0] as Extract<AgentEvent, { type: 'error' }>;
}

// ---------------------------------------------------------------- auth

test('claude: an expired credential (401 "OAuth token has expired") is auth_expired, in its own words', () => {
  const events = load('claude', 'auth-expired');
  const e = onlyFatal(events);
  assert.equal(e.category, 'auth_expired');
  assert.equal(e.status, 401);
  assert.equal(
    e.message,
    'Failed to authenticate. API Error: 401 OAuth token has expired. Please obtain a new token or refresh your existing token.',
  );
  assertPlain(e.message);
  assert.equal(ofType(events, 'result')[0]?.ok, false);
  // The CLI's made-up assistant message repeating the error is not the agent's message.
  assert.equal(ofType(events, 'message').length, 0);
});

test('claude: a rejected key (401) is auth, not auth_expired', () => {
  const e = onlyFatal(load('claude', 'auth-error-401'));
  assert.equal(e.category, 'auth');
  assert.equal(e.status, 401);
  assert.match(e.message, /^Invalid API key/);
});

test('codex: 401 token_expired is auth_expired; 401 invalid key is auth; no URL, one line', () => {
  const expired = load('codex', 'auth-expired');
  const e = onlyFatal(expired);
  assert.equal(e.category, 'auth_expired');
  assert.equal(e.status, 401);
  assert.equal(
    e.message,
    '401 Unauthorized: Provided authentication token is expired. Please try signing in again.',
  );
  assert.equal(ofType(expired, 'result')[0]?.ok, false);
  const rejected = onlyFatal(load('codex', 'auth-error-401'));
  assert.equal(rejected.category, 'auth');
  assert.equal(rejected.status, 401);
  assert.doesNotMatch(rejected.message, /url:|127\.0\.0\.1/);
  assertPlain(rejected.message);
});

test('codex: any key the provider calls expired is auth_expired (its own words, any 4xx); a 5xx is not auth', () => {
  const fatal = (message: string) =>
    onlyFatal(
      parseAll(codexParser(), `${JSON.stringify({ type: 'turn.failed', error: { message } })}\n`),
    );
  const url = ', url: http://127.0.0.1:1/v1/responses';
  // The scripted e2e shape: OpenAI's invalid_api_key code, the message saying it expired.
  const openai = fatal(
    `unexpected status 401 Unauthorized: Your API key has expired. Please generate a new API key.${url}`,
  );
  assert.equal(openai.category, 'auth_expired');
  assert.equal(
    openai.message,
    '401 Unauthorized: Your API key has expired. Please generate a new API key.',
  );
  // A provider that answers an expired key with a 400.
  assert.equal(
    fatal(`unexpected status 400 Bad Request: API key expired. Please renew the API key.${url}`)
      .category,
    'auth_expired',
  );
  assert.equal(
    fatal(`unexpected status 403 Forbidden: Your access token has expired.${url}`).category,
    'auth_expired',
  );
  assert.equal(
    fatal(`unexpected status 401 Unauthorized: Incorrect API key provided${url}`).category,
    'auth',
  );
  assert.equal(
    fatal(`unexpected status 500 Internal Server Error: upstream token expired${url}`).category,
    undefined,
  );
  assert.equal(fatal('stream disconnected before completion').category, undefined);
  // The same on stderr, when the stream explained nothing.
  assert.deepEqual(
    codexAdapter.diagnoseExit?.({
      code: 1,
      stderrTail: `ERROR: unexpected status 401 Unauthorized: Your API key has expired. Please generate a new API key.${url}\n`,
    }),
    {
      category: 'auth_expired',
      message:
        'ERROR: unexpected status 401 Unauthorized: Your API key has expired. Please generate a new API key.',
    },
  );
});

test('gemini: Google\'s 400 API_KEY_INVALID "API key expired" is auth_expired with the provider\'s message, not the raw JSON', () => {
  const events = load('gemini', 'auth-expired');
  const e = onlyFatal(events);
  assert.equal(e.category, 'auth_expired');
  assert.equal(e.status, 400);
  assert.equal(e.message, 'API key expired. Please renew the API key.');
  const [final] = ofType(events, 'result');
  assert.equal(final?.ok, false);
  assert.equal(final?.text, 'API key expired. Please renew the API key.');
  assert.equal(meta('gemini', 'auth-expired').exitCode, 144);
  // The exit alone (400 mod 256), read with its stderr, says the same.
  assert.deepEqual(
    geminiAdapter.diagnoseExit?.({ code: 144, stderrTail: stderrOf('gemini', 'auth-expired') }),
    { category: 'auth_expired', message: 'API key expired. Please renew the API key.' },
  );
});

test('gemini: a 401 is auth, exit 145 is diagnosed as auth without the stack trace', () => {
  const e = onlyFatal(load('gemini', 'auth-error-401'));
  assert.equal(e.category, 'auth');
  assert.equal(e.status, 401);
  assert.equal(e.message, 'API key not valid. Please pass a valid API key.');
  assert.equal(meta('gemini', 'auth-error-401').exitCode, 145);
  const d = geminiAdapter.diagnoseExit?.({
    code: 145,
    stderrTail: stderrOf('gemini', 'auth-error-401'),
  });
  assert.equal(d?.category, 'auth');
  assertPlain(d?.message ?? '');
  // Nothing on stderr to go by: the exit code still says 401.
  assert.equal(geminiAdapter.diagnoseExit?.({ code: 145, stderrTail: '' })?.category, 'auth');
});

test('gemini: exit 41 without selectedType is a config error naming the setting', () => {
  const m = meta('gemini', 'config-no-auth-type');
  assert.equal(m.exitCode, 41);
  assert.equal(m.requests.length, 0);
  const d = geminiAdapter.diagnoseExit?.({
    code: 41,
    stderrTail: stderrOf('gemini', 'config-no-auth-type'),
  });
  assert.equal(d?.category, 'config');
  assert.match(d?.message ?? '', /^Invalid auth method selected\. .*selectedType/);
});

test('usage errors (an unknown option) are diagnosed for each CLI from its real stderr and exit code', () => {
  const expected: Record<Cli, [number, string]> = {
    claude: [1, "error: unknown option '--no-such-flag'"],
    codex: [2, "error: unexpected argument '--no-such-flag' found"],
    gemini: [1, 'Unknown arguments: such-flag, suchFlag'],
  };
  for (const [cli, [code, message]] of Object.entries(expected) as Array<[Cli, [number, string]]>) {
    const m = meta(cli, 'usage-error');
    assert.equal(m.exitCode, code, cli);
    assert.equal(m.requests.length, 0, cli);
    assert.deepEqual(
      ADAPTERS[cli].diagnoseExit?.({ code, stderrTail: stderrOf(cli, 'usage-error') }),
      { category: 'usage', message },
      cli,
    );
  }
});

test('"Invalid API key" on stderr with exit 1 is auth for every CLI; a plain failure is not diagnosed', () => {
  for (const cli of ['claude', 'codex', 'gemini'] as const) {
    const d = ADAPTERS[cli].diagnoseExit?.({
      code: 1,
      stderrTail: '\x1b[31mInvalid API key\x1b[0m\n    at main (cli.js:1:2)\n',
    });
    assert.equal(d?.category, 'auth', cli);
    assert.equal(d?.message, 'Invalid API key', cli);
    assert.equal(ADAPTERS[cli].diagnoseExit?.({ code: 1, stderrTail: 'segfault' }), null, cli);
    assert.equal(ADAPTERS[cli].diagnoseExit?.({ code: 0, stderrTail: 'Invalid API key' }), null);
  }
});

test('amp: its recorded refusal of a key (stderr, exit 1, no stream) is auth in its own words', () => {
  const m = JSON.parse(fixture('recorded/amp/auth-error-401.meta.json')) as Meta;
  assert.equal(m.exitCode, 1);
  assert.deepEqual(
    ampAdapter.diagnoseExit?.({
      code: 1,
      stderrTail: fixture('recorded/amp/auth-error-401.stderr.txt'),
    }),
    { category: 'auth', message: "Invalid or missing API key. Run 'amp login' to authenticate." },
  );
});

test('every recording of claude, codex and gemini parses without warnings into at most one result', () => {
  for (const [cli, names] of Object.entries(RECORDINGS) as Array<[Cli, string[]]>) {
    for (const name of [...names, 'server-error-500', 'auth-error-401']) {
      const events = load(cli, name);
      assert.equal(ofType(events, 'parse_warning').length, 0, `${cli}/${name}`);
      assert.equal(ofType(events, 'result').length, 1, `${cli}/${name}`);
    }
    for (const name of ['usage-error', ...(cli === 'gemini' ? ['config-no-auth-type'] : [])]) {
      assert.deepEqual(load(cli, name), [], `${cli}/${name}: nothing on stdout`);
    }
  }
});

// ---------------------------------------------------------------- retries

test('claude: 429 with retry-after shows two retry notices with status and delay, then succeeds', () => {
  const events = load('claude', 'rate-limit-429');
  const retries = ofType(events, 'retry');
  assert.deepEqual(
    retries.map((r) => [r.attempt, r.maxRetries, r.status]),
    [
      [1, 10, 429],
      [2, 10, 429],
    ],
  );
  assert.ok(
    retries.every((r) => (r.delayMs ?? 0) >= 1000),
    JSON.stringify(retries),
  );
  assert.equal(ofType(events, 'result')[0]?.ok, true);
});

test('codex: "Reconnecting… (exceeded retry limit, last status: 429 …)" carries the 429', () => {
  const events = load('codex', 'rate-limit-429');
  const retries = ofType(events, 'retry');
  assert.deepEqual(
    retries.map((r) => [r.attempt, r.maxRetries, r.status, r.message]),
    [
      [1, 5, 429, 'exceeded retry limit, last status: 429 Too Many Requests'],
      [2, 5, 429, 'exceeded retry limit, last status: 429 Too Many Requests'],
    ],
  );
  assert.equal(ofType(events, 'error').length, 0);
  assert.equal(ofType(events, 'result')[0]?.ok, true);
});

test('gemini: retry notices are read from stderr only, once per attempt, stack traces ignored', () => {
  const retriesOf = (name: string) =>
    ofType(parseAll(geminiStderrParser(), stderrOf('gemini', name)), 'retry');
  // A 429 whose body carries RetryInfo: two lines per notice, no status number.
  assert.deepEqual(
    retriesOf('rate-limit-429').map((r) => [r.attempt, r.status, r.delayMs, r.message]),
    [
      [1, 429, 5425, 'Resource has been exhausted (e.g. check quota).'],
      [2, 429, 10618, 'Resource has been exhausted (e.g. check quota).'],
    ],
  );
  // Without RetryInfo: "with status 429. Retrying with backoff... _ApiError: {…}" + a stack trace.
  assert.deepEqual(
    retriesOf('rate-limit-429-backoff').map((r) => [r.attempt, r.status, r.delayMs, r.message]),
    [
      [1, 429, null, 'Resource has been exhausted (e.g. check quota).'],
      [2, 429, null, 'Resource has been exhausted (e.g. check quota).'],
    ],
  );
  assert.deepEqual(
    retriesOf('server-error-500-then-success').map((r) => [r.attempt, r.status, r.message]),
    [[1, 500, 'Scripted error 500']],
  );
  // "Attempt 2 failed: … Max attempts reached" is the end, not a retry.
  assert.deepEqual(
    retriesOf('server-error-500').map((r) => r.attempt),
    [1],
  );
  assert.equal(retriesOf('tool-use-success').length, 0);
  // The stdout stream has none of it.
  assert.equal(ofType(load('gemini', 'rate-limit-429'), 'retry').length, 0);
  // The one-line form with a server-given delay (a quota error is a 429).
  const [timed] = parseAll(
    geminiStderrParser(),
    'Attempt 3 failed: You exceeded your current quota. Retrying after 5123ms...\n',
  );
  assert.deepEqual(timed, {
    type: 'retry',
    attempt: 3,
    maxRetries: null,
    delayMs: 5123,
    status: 429,
    message: 'You exceeded your current quota',
  });
});

test('gemini: a two-line quota notice that gives up is no retry; an unrelated line in between is skipped', () => {
  const parse = (text: string) => ofType(parseAll(geminiStderrParser(), text), 'retry');
  assert.deepEqual(
    parse(
      [
        'Attempt 10 failed: Resource has been exhausted (e.g. check quota).',
        'Suggested retry after 2s.. Max attempts reached',
      ].join('\n'),
    ),
    [],
  );
  assert.deepEqual(
    parse(
      [
        'Attempt 1 failed: The model is overloaded. Please try again later.',
        'Loaded cached credentials.',
        'Suggested retry after 3s.. Retrying after 3600ms...',
        'Suggested retry after 3s.. Retrying after 3600ms...',
      ].join('\n'),
    ).map((r) => [r.attempt, r.status, r.delayMs, r.message]),
    [[1, 503, 3600, 'The model is overloaded. Please try again later.']],
  );
  // A closing line with no opening one emits nothing.
  assert.deepEqual(parse('Suggested retry after 1s.. Retrying after 1200ms...'), []);
});

// ---------------------------------------------------------------- denials

test('claude: a refused Bash call is one denial with its tool, input and the reason', () => {
  const events = load('claude', 'permission-denial');
  const denials = ofType(events, 'denial');
  assert.equal(denials.length, 1, 'system/permission_denied and result.permission_denials: once');
  const [call] = ofType(events, 'tool_call');
  assert.equal(denials[0]?.id, call?.id);
  assert.equal(denials[0]?.tool, 'Bash');
  assert.deepEqual(denials[0]?.input, {
    command: 'echo hello > out.txt && cat out.txt',
    description: 'Write out.txt',
  });
  assert.match(denials[0]?.message ?? '', /needs approval/);
  assert.equal(ofType(events, 'tool_result')[0]?.status, 'error');
  assert.equal(ofType(events, 'result')[0]?.ok, true, 'the agent itself reported success');
});

test('claude: a denial seen only in a tool result (older versions), and again in permission_denials, is emitted once', () => {
  const lines = [
    '{"type":"assistant","message":{"id":"m1","content":[{"type":"tool_use","id":"t1","name":"Write","input":{"file_path":"a.txt"}}]}}',
    '{"type":"user","message":{"content":[{"type":"tool_result","tool_use_id":"t1","is_error":true,"content":"Claude requested permissions to use Write, but you haven\'t granted it yet."}]}}',
    '{"type":"result","subtype":"success","is_error":false,"result":"ok","session_id":"s","permission_denials":[{"tool_name":"Write","tool_use_id":"t1","tool_input":{"file_path":"a.txt"}},{"tool_name":"Bash","tool_use_id":"t2","tool_input":{"command":"rm -rf /"}}]}',
  ];
  const denials = ofType(parseAll(claudeParser(), lines.join('\n')), 'denial');
  assert.deepEqual(
    denials.map((d) => [d.id, d.tool, d.input]),
    [
      ['t1', 'Write', { file_path: 'a.txt' }],
      ['t2', 'Bash', { command: 'rm -rf /' }],
    ],
  );
});

test('codex: a command the read-only sandbox refused is one denial (exec never asks)', () => {
  const events = load('codex', 'permission-denial');
  const denials = ofType(events, 'denial');
  assert.equal(denials.length, 1);
  assert.equal(denials[0]?.tool, 'shell');
  assert.deepEqual(denials[0]?.input, {
    command: "/bin/bash -lc 'echo hello > out.txt && cat out.txt'",
  });
  assert.equal(denials[0]?.message, '/bin/bash: line 1: out.txt: Read-only file system');
  assert.equal(ofType(events, 'tool_call').length, 1);
  assert.equal(ofType(events, 'result')[0]?.ok, true);
  // A command failing for its own reasons is not a denial.
  assert.equal(ofType(load('codex', 'tool-use-success'), 'denial').length, 0);
});

test('gemini: headless without yolo the shell is not registered; the refused call is one denial', () => {
  const events = load('gemini', 'permission-denial');
  const denials = ofType(events, 'denial');
  assert.equal(denials.length, 1);
  assert.equal(denials[0]?.tool, 'run_shell_command');
  assert.deepEqual(denials[0]?.input, {
    command: 'echo hello > out.txt && cat out.txt',
    description: 'Write out.txt',
  });
  assert.match(denials[0]?.message ?? '', /not found.*without approval/);
  assert.equal(ofType(events, 'result')[0]?.ok, true);
  assert.equal(ofType(load('gemini', 'tool-use-success'), 'denial').length, 0);
});

// ---------------------------------------------------------------- budget

test("claude: a stop on --max-budget-usd is a budget error that keeps the run's usage and cost", () => {
  const events = load('claude', 'budget');
  const e = onlyFatal(events);
  assert.equal(e.category, 'budget');
  assert.equal(e.message, 'Reached maximum budget ($0.0001)');
  assert.equal(ofType(events, 'result')[0]?.ok, false);
  // result.usage is all zeros here; the per-request usage and model_usage_since_last_result are not.
  assert.equal(sum(events, 'tokensIn'), 12332);
  assert.equal(sum(events, 'tokensOut'), 26);
  assert.deepEqual(ofType(events, 'cost'), [
    { type: 'cost', usd: 0.049847999999999996, source: 'reported', scope: 'run' },
  ]);
  // It stopped after the one request that crossed the budget, before running the tool.
  assert.equal(meta('claude', 'budget').requests.length, 1);
  assert.equal(ofType(events, 'tool_result').length, 0);
  assert.equal(claudeAdapter.diagnoseExit?.({ code: 1, stderrTail: '' }) ?? null, null);
});

// ---------------------------------------------------------------- usage

/** The server's input tokens for the follow-up run's requests alone. */
function followUpInput(cli: Cli): number {
  const m = meta(cli, 'resume');
  const first = m.resumedFrom?.requests ?? 0;
  return m.requests.slice(first).reduce((n, r) => n + r.inputTokens, 0);
}
function allInput(cli: Cli, name: string): number {
  return meta(cli, name).requests.reduce((n, r) => n + r.inputTokens, 0);
}

test("claude: usage is per request (deduped by message id) and sums to the run's own; cost is the run's own", () => {
  const run = load('claude', 'tool-use-success');
  assert.equal(sum(run, 'tokensIn'), allInput('claude', 'tool-use-success'));
  assert.ok(ofType(run, 'usage').every((u) => u.scope === 'run'));
  const resumed = load('claude', 'resume');
  assert.equal(sum(resumed, 'tokensIn'), followUpInput('claude'));
  assert.ok(ofType(resumed, 'usage').every((u) => u.scope === 'run'));
  // total_cost_usd (0.149636) is the session's; model_usage_since_last_result is this run's.
  assert.deepEqual(ofType(resumed, 'cost'), [
    { type: 'cost', usd: 0.050024, source: 'reported', scope: 'run' },
  ]);
  // Streamed live: the first request's usage comes before the tool call.
  const types = run.map((e) => e.type);
  assert.ok(types.indexOf('usage') < types.indexOf('tool_call'));
});

test("codex: turn.completed usage is the thread's running total (scope session); the engine makes it the run's", () => {
  const resumed = load('codex', 'resume');
  const usage = ofType(resumed, 'usage');
  assert.equal(usage.length, 1);
  assert.equal(usage[0]?.scope, 'session');
  // Cumulative: what every request of the thread cost, both runs.
  assert.equal(usage[0]?.tokensIn, allInput('codex', 'resume'));
  const first = ofType(load('codex', 'tool-use-success'), 'usage')[0];
  assert.equal(first?.tokensIn, allInput('codex', 'tool-use-success'));
  const own = new RunUsage(null);
  for (const u of usage) own.take(u);
  const m = meta('codex', 'resume');
  const baselineIn = m.requests
    .slice(0, m.resumedFrom?.requests)
    .reduce((n, r) => n + r.inputTokens, 0);
  const figures = own.own({
    tokensIn: baselineIn,
    tokensOut: first?.tokensOut ?? 0,
    cacheRead: 0,
    cacheWrite: 0,
    costUsd: null,
  });
  assert.equal(figures.tokensIn, followUpInput('codex'));
});

test("gemini: result stats are the run's own on resume (scope run)", () => {
  const usage = ofType(load('gemini', 'resume'), 'usage');
  assert.equal(usage.length, 1);
  assert.equal(usage[0]?.scope, 'run');
  assert.equal(usage[0]?.tokensIn, followUpInput('gemini'));
});

// ---------------------------------------------------------------- snapshots

function resumeAt(make: (saved?: unknown) => TranscriptParser, lines: string[], k: number) {
  const first = make();
  const out: AgentEvent[] = [];
  for (const l of lines.slice(0, k)) out.push(...first.line(l));
  // Stored as JSON beside the offset, as the engine does.
  const saved = JSON.parse(JSON.stringify(first.snapshot?.() ?? null)) as unknown;
  const second = make(saved);
  for (const l of lines.slice(k)) out.push(...second.line(l));
  out.push(...second.end());
  return out;
}

test('a parser made again from its snapshot at every line boundary emits exactly what one parser would', () => {
  for (const [cli, names] of Object.entries(RECORDINGS) as Array<[Cli, string[]]>) {
    const make = (saved?: unknown) => ADAPTERS[cli].parser(saved);
    assert.equal(typeof make().snapshot, 'function', `${cli}: no snapshot()`);
    for (const name of names) {
      const text = fixture(`recorded/${cli}/${name}.jsonl`);
      const lines = text.split('\n');
      const whole = parseAll(make(), text);
      for (let k = 0; k <= lines.length; k++) {
        assert.deepEqual(
          resumeAt(make, lines, k),
          whole,
          `${cli}/${name}: restored after line ${k}`,
        );
      }
    }
  }
});

test('codex: without the snapshot the tool call running at a restart would be emitted twice', () => {
  const lines = fixture('recorded/codex/tool-use-success.jsonl').split('\n');
  const k = lines.findIndex((l) => l.includes('"item.started"')) + 1;
  assert.ok(k > 0);
  const count = (events: AgentEvent[]) => ofType(events, 'tool_call').length;
  // A fresh parser after the restart: the completed item repeats the call.
  const fresh: AgentEvent[] = [];
  const a = codexParser();
  for (const l of lines.slice(0, k)) fresh.push(...a.line(l));
  const b = codexParser();
  for (const l of lines.slice(k)) fresh.push(...b.line(l));
  assert.equal(count(fresh), 2);
  assert.equal(ofType(fresh, 'result')[0]?.sessionId, null, 'and the thread id is lost');
  const restored = resumeAt(codexParser, lines, k);
  assert.equal(count(restored), 1);
  const [final] = ofType(restored, 'result');
  const thread = (JSON.parse(lines[0] as string) as { thread_id: string }).thread_id;
  assert.equal(final?.sessionId, thread);
  assert.match(final?.text ?? '', /DONE/);
});

test('claude: restoring a snapshot does not count a streamed request twice', () => {
  const lines = fixture('recorded/claude/tool-use-success.jsonl').split('\n');
  const k = lines.findIndex((l) => l.includes('"tool_use"')) + 1;
  const events = resumeAt(claudeParser, lines, k);
  assert.equal(sum(events, 'tokensIn'), allInput('claude', 'tool-use-success'));
});
