import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { InvocationContext } from '../../src/agents/adapter.js';
import {
  copilotAdapter,
  copilotSessionUsage,
  copilotUsageAfterExit,
} from '../../src/agents/copilot.js';
import type { AgentEvent, TranscriptParser } from '../../src/agents/events.js';
import { opencodeAdapter } from '../../src/agents/opencode.js';
import { qwenAdapter } from '../../src/agents/qwen.js';
import { agentSchema } from '../../src/config/schema.js';
import { ConfigError } from '../../src/domain/errors.js';
import { fixture, fixtureExists, ofType, parseAll } from './fixtures.js';

/**
 * Real output of opencode 1.18.33, Copilot CLI 1.0.102 and Qwen Code 0.21.10 from npm, recorded
 * with test/support/model-servers/record-other.ts against the scripted servers.
 */
const ADAPTERS = { opencode: opencodeAdapter, copilot: copilotAdapter, qwen: qwenAdapter };
type Kind = keyof typeof ADAPTERS;
const rec = (kind: Kind, name: string) => fixture(`recorded/${kind}/${name}.jsonl`);
const parse = (kind: Kind, name: string) => parseAll(ADAPTERS[kind].parser(), rec(kind, name));
const has = (kind: Kind, name: string) => fixtureExists(`recorded/${kind}/${name}.jsonl`);

/** Feeds the lines, recreating the parser from its snapshot after every line (a server restart each time). */
function parseRestarting(kind: Kind, text: string): AgentEvent[] {
  const out: AgentEvent[] = [];
  let parser: TranscriptParser = ADAPTERS[kind].parser();
  for (const line of text.split('\n')) {
    out.push(...parser.line(line));
    parser = ADAPTERS[kind].parser(JSON.parse(JSON.stringify(parser.snapshot?.() ?? null)));
  }
  out.push(...parser.end());
  return out;
}

for (const kind of ['opencode', 'copilot', 'qwen'] as const) {
  test(`${kind}: a tool job gives the shell call, its result, the final message and an ok result`, () => {
    const events = parse(kind, 'tool-use-success');
    assert.equal(ofType(events, 'parse_warning').length, 0);
    const calls = ofType(events, 'tool_call');
    assert.equal(calls.length, 1);
    assert.equal(calls[0]?.kind, 'command');
    assert.match(JSON.stringify(calls[0]?.input), /echo hello > out\.txt/);
    const [result] = ofType(events, 'tool_result');
    assert.equal(result?.id, calls[0]?.id);
    assert.equal(result?.status, 'ok');
    assert.match(result?.output ?? '', /hello/);
    const results = ofType(events, 'result');
    assert.equal(results.length, 1);
    assert.equal(results[0]?.ok, true);
    assert.equal(results[0]?.text, 'Created out.txt containing hello. DONE');
    assert.ok(results[0]?.sessionId);
    assert.equal(ofType(events, 'error').length, 0);
    assert.equal(ofType(events, 'denial').length, 0);
  });

  test(`${kind}: a parser restored from its snapshot after every line emits each event once`, () => {
    for (const name of ['tool-use-success', 'permission-denial']) {
      if (!has(kind, name)) continue;
      const once = parse(kind, name);
      const restarted = parseRestarting(kind, rec(kind, name));
      assert.deepEqual(restarted, once, name);
      const ids = ofType(restarted, 'tool_call').map((c) => c.id);
      assert.equal(new Set(ids).size, ids.length);
    }
  });

  test(`${kind}: a 401 is a fatal auth error and a failed result`, () => {
    const events = parse(kind, 'auth-error-401');
    const errors = ofType(events, 'error');
    assert.equal(errors.length, 1);
    assert.equal(errors[0]?.category, 'auth');
    assert.equal(errors[0]?.status, 401);
    assert.equal(errors[0]?.fatal, true);
    const m = errors[0]?.message ?? '';
    assert.ok(!m.includes('\n') && !m.includes(String.fromCharCode(27)));
    const results = ofType(events, 'result');
    assert.equal(results.length, 1);
    assert.equal(results[0]?.ok, false);
  });

  test(`${kind}: an expired key keeps the word "expired" and is auth_expired`, () => {
    const [error] = ofType(parse(kind, 'auth-expired'), 'error');
    assert.equal(error?.category, 'auth_expired');
    assert.match(error?.message ?? '', /expired/);
  });

  test(`${kind}: a denied tool use is one denial event with the tool and its input`, () => {
    const events = parse(kind, 'permission-denial');
    const denials = ofType(events, 'denial');
    assert.equal(denials.length, 1);
    assert.match(JSON.stringify(denials[0]?.input), /echo hello > out\.txt/);
    assert.equal(denials[0]?.id, ofType(events, 'tool_call')[0]?.id);
    assert.ok(denials[0]?.message);
  });

  test(`${kind}: output that is not JSON gives no result (the engine fails the run)`, () => {
    const events = parse(kind, 'text-format');
    assert.equal(ofType(events, 'result').length, 0);
    assert.ok(ofType(events, 'parse_warning').length > 0);
  });

  test(`${kind}: a 429 that is retried ends in an ok result`, () => {
    const events = parse(kind, 'rate-limit-429');
    assert.equal(ofType(events, 'result')[0]?.ok, true);
    if (kind === 'copilot') {
      // Copilot prints each failed call before it waits: the notices are live.
      const retries = ofType(events, 'retry');
      assert.equal(retries.length, 2);
      assert.deepEqual(
        retries.map((r) => [r.attempt, r.status]),
        [
          [1, 429],
          [2, 429],
        ],
      );
    } else assert.equal(ofType(events, 'retry').length, 0, `${kind} retries silently`);
  });

  test(`${kind}: a resumed run keeps the session`, () => {
    const meta = JSON.parse(fixture(`recorded/${kind}/resume.meta.json`)) as { argv: string[] };
    const [final] = ofType(parse(kind, 'resume'), 'result');
    assert.equal(final?.ok, true);
    assert.ok(final?.sessionId && meta.argv.join(' ').includes(final.sessionId));
  });
}

test('opencode: usage per step is this run’s own (scope run); qwen: the result is the session total', () => {
  const oc = ofType(parse('opencode', 'resume'), 'usage');
  assert.ok(oc.length > 0 && oc.every((u) => u.scope === undefined && u.tokensIn > 0));
  const first = ofType(parse('qwen', 'tool-use-success'), 'usage');
  assert.equal(first.length, 1);
  assert.equal(first[0]?.scope, 'session');
  const resumed = ofType(parse('qwen', 'resume'), 'usage');
  assert.equal(resumed.length, 1);
  assert.equal(resumed[0]?.scope, 'session');
  // The resumed run's total includes the first run's tokens.
  const meta = JSON.parse(fixture('recorded/qwen/resume.meta.json')) as {
    requests?: Array<{ usage?: { input: number } }>;
  };
  const served = (meta.requests ?? []).reduce((n, r) => n + (r.usage?.input ?? 0), 0);
  if (served > 0) assert.ok((resumed[0]?.tokensIn ?? 0) >= served);
  assert.equal(ofType(parse('copilot', 'tool-use-success'), 'usage').length, 0);
});

test("opencode: a custom provider's step cost of 0 is no reported cost (the engine estimates); a positive one is reported", () => {
  const events = parse('opencode', 'tool-use-success');
  // The recording: `"cost":0` on every step_finish, with tokens.
  assert.match(rec('opencode', 'tool-use-success'), /"cost":0[,}]/);
  assert.ok(ofType(events, 'usage').some((u) => u.tokensIn > 0));
  assert.deepEqual(ofType(events, 'cost'), []);
  const step = (cost: unknown) =>
    `${JSON.stringify({
      type: 'step_finish',
      sessionID: 'ses_1',
      part: {
        type: 'step-finish',
        reason: 'tool-calls',
        tokens: { input: 10, output: 2, reasoning: 0, cache: { read: 0, write: 0 } },
        cost,
      },
    })}\n`;
  assert.deepEqual(
    ofType(
      parseAll(opencodeAdapter.parser(), step(0) + step(-1) + step('0.5') + step(0.0042)),
      'cost',
    ),
    [{ type: 'cost', usd: 0.0042, source: 'reported' }],
  );
});

test("copilot: session.error takes the category from the provider's own words, with or without a status", () => {
  const line = (o: unknown) => `${JSON.stringify(o)}\n`;
  const failure = (errorMessage: string) =>
    line({
      type: 'model.call_failure',
      data: { statusCode: 401, retryAttempt: 0, errorMessage },
      ephemeral: true,
    });
  const sessionError = (statusCode?: number) =>
    line({
      type: 'session.error',
      data: {
        errorType: 'authentication',
        message:
          'Authentication failed with provider at http://127.0.0.1:1/v1 (HTTP 401).\n  Check your COPILOT_PROVIDER_API_KEY.',
        ...(statusCode === undefined ? {} : { statusCode }),
      },
    });
  const errorOf = (text: string) => {
    const errors = ofType(parseAll(copilotAdapter.parser(), text), 'error');
    assert.equal(errors.length, 1);
    return errors[0];
  };
  const expired = JSON.stringify({
    message: 'Your API key has expired. Please generate a new API key.',
    code: 'invalid_api_key',
  });
  for (const status of [401, undefined]) {
    const e = errorOf(failure(expired) + sessionError(status));
    assert.equal(e?.category, 'auth_expired', `status ${status}`);
    assert.equal(e?.message, 'Your API key has expired. Please generate a new API key.');
  }
  const rejected = errorOf(
    failure(JSON.stringify({ message: 'Incorrect API key provided: sk-x.' })) + sessionError(),
  );
  assert.equal(rejected?.category, 'auth');
  assert.equal(rejected?.message, 'Incorrect API key provided: sk-x.');
  // No failed call before it: the CLI's own words, rejected.
  const own = errorOf(sessionError(401));
  assert.equal(own?.category, 'auth');
  assert.match(own?.message ?? '', /^Authentication failed/);
});

test("copilot: usage after exit is the last run's own, from the session's events.jsonl (its usage records), as the server counted it", () => {
  const text = rec('copilot', 'resume.session-events');
  const meta = JSON.parse(fixture('recorded/copilot/resume.session-events.meta.json')) as {
    sessionId: string;
    firstRunRequests: number;
    requests: Array<{ inputTokens: number; outputTokens: number; cacheRead: number }>;
  };
  const served = (from: number, to: number) =>
    meta.requests
      .slice(from, to)
      .reduce((a, r) => ({ in: a.in + r.inputTokens, out: a.out + r.outputTokens }), {
        in: 0,
        out: 0,
      });
  // The resumed run: its one request, not the session's three.
  const second = served(meta.firstRunRequests, meta.requests.length);
  assert.deepEqual(copilotSessionUsage(text), [
    {
      type: 'usage',
      tokensIn: second.in,
      tokensOut: second.out,
      cacheRead: 0,
      cacheWrite: 0,
      scope: 'run',
    },
  ]);
  // Cut after the first run's shutdown: the first run's two requests.
  const lines = text.split('\n');
  const firstEnd = lines.findIndex((l) => l.includes('"type":"session.shutdown"'));
  const first = served(0, meta.firstRunRequests);
  assert.deepEqual(copilotSessionUsage(lines.slice(0, firstEnd + 1).join('\n')), [
    {
      type: 'usage',
      tokensIn: first.in,
      tokensOut: first.out,
      cacheRead: 0,
      cacheWrite: 0,
      scope: 'run',
    },
  ]);
  // Each shutdown holds the session's running total, not the run's.
  assert.match(lines[firstEnd] ?? '', new RegExp(`"inputTokens":${first.in}`));
  assert.match(text, new RegExp(`"inputTokens":${first.in + second.in}`));
  // A run that made no request after its resume has no usage of its own.
  const resumed = lines.findIndex((l) => l.includes('"type":"session.resume"'));
  assert.deepEqual(copilotSessionUsage(lines.slice(0, resumed + 1).join('\n')), []);
  // Without usage records (older CLIs), the last shutdown's totals are the session's.
  const noRecords = lines.filter((l) => !l.includes('"type":"session.usage_record"')).join('\n');
  assert.deepEqual(copilotSessionUsage(noRecords), [
    {
      type: 'usage',
      tokensIn: first.in + second.in,
      tokensOut: first.out + second.out,
      cacheRead: 0,
      cacheWrite: 0,
      scope: 'session',
    },
  ]);
  // Cached input is inside inputTokens: only the rest is counted as input.
  const cached = JSON.stringify({
    type: 'session.usage_record',
    data: {
      usage: { inputTokens: 1000, outputTokens: 5, cacheReadTokens: 800, cacheWriteTokens: 100 },
    },
  });
  assert.deepEqual(copilotSessionUsage(`garbage\n${cached}\n{"type":"session.usage_record"}\n`), [
    { type: 'usage', tokensIn: 100, tokensOut: 5, cacheRead: 800, cacheWrite: 100, scope: 'run' },
  ]);
});

test('copilot: usageAfterExit reads $HOME/.copilot or $COPILOT_HOME, and never throws', () => {
  const root = mkdtempSync(join(tmpdir(), 'ab-copilot-usage-'));
  try {
    const sid = 'f468cb5c-3664-42c3-8e28-8aecffe12916';
    const home = join(root, 'home');
    const dir = join(home, '.copilot', 'session-state', sid);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'events.jsonl'), rec('copilot', 'resume.session-events'));
    const fromHome = copilotAdapter.usageAfterExit?.({ sessionId: sid, env: { HOME: home } }) ?? [];
    assert.equal(fromHome.length, 1);
    assert.equal(ofType(fromHome, 'usage')[0]?.scope, 'run');
    // COPILOT_HOME (from the agent's environment) replaces ~/.copilot.
    assert.deepEqual(
      copilotAdapter.usageAfterExit?.({
        sessionId: sid,
        env: { HOME: join(root, 'elsewhere'), COPILOT_HOME: join(home, '.copilot') },
      }),
      fromHome,
    );
    assert.deepEqual(copilotUsageAfterExit(sid, join(root, 'elsewhere'), undefined), []);
    // No such session, no id, an id that is not one, a directory where the file should be.
    assert.deepEqual(
      copilotUsageAfterExit('0b0b0b0b-0000-4000-8000-000000000000', home, undefined),
      [],
    );
    assert.deepEqual(copilotUsageAfterExit('', home, undefined), []);
    assert.deepEqual(copilotUsageAfterExit('../../etc', home, undefined), []);
    const odd = '11111111-2222-4333-8444-555555555555';
    mkdirSync(join(home, '.copilot', 'session-state', odd, 'events.jsonl'), { recursive: true });
    assert.deepEqual(copilotUsageAfterExit(odd, home, undefined), []);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('qwen: a 401 that Qwen Code reports as subtype success is a failure', () => {
  const raw = rec('qwen', 'auth-error-401');
  assert.match(raw, /"subtype":"success"/);
  assert.match(raw, /\[API Error: 401/);
  const events = parse('qwen', 'auth-error-401');
  const [error] = ofType(events, 'error');
  assert.match(error?.message ?? '', /Incorrect API key/);
  assert.doesNotMatch(error?.message ?? '', /^\[API Error/);
  assert.equal(ofType(events, 'result')[0]?.ok, false);
});

test('qwen: no auth type is a config error; persistent-retry heartbeats on stderr are retries', () => {
  if (has('qwen', 'config-no-auth-type')) {
    const events = parse('qwen', 'config-no-auth-type');
    assert.equal(ofType(events, 'error')[0]?.category, 'config');
    assert.equal(ofType(events, 'result')[0]?.ok, false);
  }
  const stderr = qwenAdapter.stderrParser?.();
  assert.ok(stderr);
  assert.deepEqual(stderr.line('[qwen-code] Waiting for API capacity... attempt 3, retry in 45s'), [
    {
      type: 'retry',
      attempt: 3,
      maxRetries: null,
      delayMs: 45_000,
      status: null,
      message: 'Waiting for API capacity... attempt 3, retry in 45s',
    },
  ]);
  assert.deepEqual(qwenAdapter.diagnoseExit?.({ code: 55, stderrTail: '' })?.category, 'budget');
});

test('diagnoseExit: usage errors and keys refused in plain text', () => {
  const usage = fixtureExists('recorded/copilot/usage-error.stderr.txt')
    ? fixture('recorded/copilot/usage-error.stderr.txt')
    : "error: unexpected argument '--no-such-flag' found";
  assert.equal(copilotAdapter.diagnoseExit?.({ code: 1, stderrTail: usage })?.category, 'usage');
  assert.equal(
    qwenAdapter.diagnoseExit?.({ code: 1, stderrTail: 'Unknown arguments: bogus-flag, bogusFlag' })
      ?.category,
    'usage',
  );
  assert.deepEqual(
    opencodeAdapter.diagnoseExit?.({
      code: 1,
      stderrTail: 'Error: Invalid API key\n    at x (y.js:1:2)',
    }),
    {
      category: 'auth',
      message: 'Error: Invalid API key',
    },
  );
  assert.equal(opencodeAdapter.diagnoseExit?.({ code: 0, stderrTail: 'Invalid API key' }), null);
});

function ctx(agent: Record<string, unknown>, resume: string | null = null): InvocationContext {
  return {
    name: 'a',
    agent: agentSchema.parse(agent),
    prompt: 'p',
    resumeSessionId: resume,
    token: 'sk-t',
    isRoot: false,
    env: {},
    maxCostUsd: null,
    cwd: '/work/repo',
    boardHome: '/work/board',
  };
}

test('copilot argv: json output, --allow-all-tools only when asked, --resume=<uuid>, key in env', () => {
  const id = '174f1e16-d8fc-432a-96a8-484bbebd9ea7';
  const inv = copilotAdapter.buildInvocation(ctx({ kind: 'copilot' }, id));
  assert.deepEqual(inv.argv, ['copilot', '--output-format', 'json', `--resume=${id}`]);
  assert.equal(inv.stdin, 'prompt');
  assert.deepEqual(inv.env, { COPILOT_PROVIDER_API_KEY: 'sk-t' });
  const all = copilotAdapter.buildInvocation(
    ctx({ kind: 'copilot', permission_mode: 'allow-all-tools', model: 'gpt-4.1' }),
  );
  assert.deepEqual(all.argv, [
    'copilot',
    '--output-format',
    'json',
    '--allow-all-tools',
    '--model=gpt-4.1',
  ]);
  assert.throws(
    () => copilotAdapter.buildInvocation(ctx({ kind: 'copilot' }, '--allow-all')),
    ConfigError,
  );
});

test('qwen argv: stream-json, --yolo or --approval-mode, model, --resume=<uuid>', () => {
  const id = 'c3599368-7837-420b-af43-10b29bbc3bb0';
  assert.deepEqual(
    qwenAdapter.buildInvocation(
      ctx({ kind: 'qwen', permission_mode: 'yolo', model: 'qwen3-coder-plus' }, id),
    ).argv,
    [
      'qwen',
      '-o',
      'stream-json',
      '--yolo',
      '--auth-type',
      'openai',
      '-m',
      'qwen3-coder-plus',
      `--resume=${id}`,
    ],
  );
  const inv = qwenAdapter.buildInvocation(ctx({ kind: 'qwen', permission_mode: 'default' }));
  assert.deepEqual(inv.argv, [
    'qwen',
    '-o',
    'stream-json',
    '--approval-mode=default',
    '--auth-type',
    'openai',
  ]);
  assert.deepEqual(inv.env, { OPENAI_API_KEY: 'sk-t' });
  assert.equal(inv.stdin, 'prompt');
  assert.throws(() => qwenAdapter.buildInvocation(ctx({ kind: 'qwen' }, '-x')), ConfigError);
  assert.throws(
    () => qwenAdapter.buildInvocation(ctx({ kind: 'qwen', permission_mode: 'bogus' })),
    ConfigError,
  );
});

test('opencode argv: --session=<ses_…>, provider/model, permission modes', () => {
  const inv = opencodeAdapter.buildInvocation(
    ctx({ kind: 'opencode', model: 'local/gpt-4.1', permission_mode: 'allow' }, 'ses_abc123'),
  );
  assert.deepEqual(inv.argv, [
    'opencode',
    'run',
    '--format',
    'json',
    '--auto',
    '--model=local/gpt-4.1',
    '--session=ses_abc123',
  ]);
  const ask = opencodeAdapter.buildInvocation(
    ctx({ kind: 'opencode', permission_mode: 'default' }),
  );
  assert.match(ask.env.OPENCODE_PERMISSION ?? '', /"bash":"ask"/);
  assert.throws(
    () => opencodeAdapter.buildInvocation(ctx({ kind: 'opencode' }, '--help')),
    ConfigError,
  );
  assert.throws(
    () => opencodeAdapter.buildInvocation(ctx({ kind: 'opencode', model: 'gpt-4.1' })),
    ConfigError,
  );
});
