import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InvocationContext } from '../../src/agents/adapter.js';
import { copilotAdapter } from '../../src/agents/copilot.js';
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
