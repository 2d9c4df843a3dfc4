import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { InvocationContext } from '../../src/agents/adapter.js';
import { adapterFor } from '../../src/agents/registry.js';
import { type AgentConfig, agentSchema } from '../../src/config/schema.js';
import { ConfigError } from '../../src/domain/errors.js';

const BIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../node_modules/.bin',
);

function ctx(
  agent: Partial<AgentConfig> & { kind: AgentConfig['kind'] },
  extra: Partial<InvocationContext> = {},
): InvocationContext {
  return {
    name: 'a',
    agent: agentSchema.parse(agent),
    prompt: 'Fix $(touch /tmp/x) `id`',
    resumeSessionId: null,
    token: 'sk-secret-123',
    isRoot: false,
    env: {},
    maxCostUsd: null,
    ...extra,
  };
}

// Ids in each CLI's real format, as recorded (test/fixtures/recorded/*/resume.jsonl).
const CLAUDE_SESSION = 'b804044b-5d67-4d36-b67e-ba16648f75e3';
const CODEX_THREAD = '01a250db-60f7-7fe2-abb7-96c6e9ad7de7';
const GEMINI_SESSION = '621ec5ec-9bf9-4371-954f-658284a12e12';

function build(c: InvocationContext) {
  return adapterFor(c.name, c.agent).buildInvocation(c);
}

test('every adapter keeps the API key out of argv and the prompt out of argv (it goes on stdin)', () => {
  for (const kind of [
    'claude',
    'codex',
    'gemini',
    'opencode',
    'cursor',
    'amp',
    'command',
  ] as const) {
    const c = ctx(kind === 'command' ? { kind, command: 'my-agent' } : { kind });
    const inv = build(c);
    assert.ok(!inv.argv.some((a) => a.includes('sk-secret-123')), `${kind}: token in argv`);
    assert.ok(!inv.argv.some((a) => a.includes('touch')), `${kind}: prompt in argv`);
    assert.equal(inv.stdin, 'prompt');
    assert.ok(Object.values(inv.env).includes('sk-secret-123'), `${kind}: token not in env`);
  }
});

test('claude: headless stream-json flags, model, permission mode, resume and budget', () => {
  const inv = build(
    ctx(
      {
        kind: 'claude',
        model: 'claude-sonnet-4-5',
        permission_mode: 'acceptEdits',
        args: ['--max-turns', '30'],
      },
      { resumeSessionId: CLAUDE_SESSION, maxCostUsd: 2.5 },
    ),
  );
  assert.deepEqual(inv.argv, [
    'claude',
    '-p',
    '--output-format',
    'stream-json',
    '--verbose',
    '--permission-mode',
    'acceptEdits',
    '--model',
    'claude-sonnet-4-5',
    `--resume=${CLAUDE_SESSION}`,
    '--max-budget-usd',
    '2.5',
    '--max-turns',
    '30',
  ]);
  assert.deepEqual(inv.env, { ANTHROPIC_API_KEY: 'sk-secret-123' });
});

test('claude: --dangerously-skip-permissions is refused as root unless IS_SANDBOX=1', () => {
  const agent = { kind: 'claude' as const, permission_mode: 'dangerously-skip-permissions' };
  assert.throws(
    () => build(ctx(agent, { isRoot: true })),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError);
      assert.match(
        e.message,
        /refuses --dangerously-skip-permissions \(and bypassPermissions\) as root.*IS_SANDBOX=1/,
      );
      return true;
    },
  );
  assert.throws(
    () =>
      build(ctx({ kind: 'claude', args: ['--dangerously-skip-permissions'] }, { isRoot: true })),
    ConfigError,
  );
  assert.ok(
    build(ctx(agent, { isRoot: true, env: { IS_SANDBOX: '1' } })).argv.includes(
      '--dangerously-skip-permissions',
    ),
  );
  assert.ok(
    build(ctx({ ...agent, env: { IS_SANDBOX: '1' } }, { isRoot: true })).argv.includes(
      '--dangerously-skip-permissions',
    ),
  );
  assert.ok(build(ctx(agent, { isRoot: false })).argv.includes('--dangerously-skip-permissions'));
  assert.throws(
    () => build(ctx({ kind: 'claude', permission_mode: 'bypassPermissions' }, { isRoot: true })),
    ConfigError,
  );
});

test('codex: exec --json with a sandbox mode; a follow-up is `exec resume <thread>`', () => {
  assert.deepEqual(build(ctx({ kind: 'codex', permission_mode: 'read-only' })).argv, [
    'codex',
    'exec',
    '--json',
    '--skip-git-repo-check',
    '--sandbox',
    'read-only',
    '-',
  ]);
  const resumed = build(ctx({ kind: 'codex' }, { resumeSessionId: CODEX_THREAD })).argv;
  assert.deepEqual(resumed, [
    'codex',
    'exec',
    'resume',
    '--json',
    '--skip-git-repo-check',
    '-c',
    'sandbox_mode="workspace-write"',
    CODEX_THREAD,
    '-',
  ]);
});

test('gemini: stream-json, approval mode, --resume=<id> to resume', () => {
  const inv = build(
    ctx({ kind: 'gemini', permission_mode: 'yolo' }, { resumeSessionId: GEMINI_SESSION }),
  );
  assert.ok(inv.argv.join(' ').includes('--output-format stream-json'));
  assert.ok(inv.argv.join(' ').includes('--approval-mode yolo'));
  assert.ok(inv.argv.includes(`--resume=${GEMINI_SESSION}`));
  assert.ok(inv.argv.includes('-p'));
});

test('opencode, cursor and amp use their documented headless flags', () => {
  assert.deepEqual(build(ctx({ kind: 'opencode' })).argv.slice(0, 4), [
    'opencode',
    'run',
    '--format',
    'json',
  ]);
  assert.deepEqual(build(ctx({ kind: 'cursor' })).argv.slice(0, 4), [
    'cursor-agent',
    '-p',
    '--output-format',
    'stream-json',
  ]);
  assert.deepEqual(build(ctx({ kind: 'amp' })).argv, ['amp', '--execute', '--stream-json']);
});

/** The flags we pass must exist in the installed CLIs (from npm), not just in our memory of them. */
test('the installed claude, codex and gemini CLIs accept the flags the adapters use', () => {
  const help = (bin: string, args: string[]) =>
    execFileSync(path.join(BIN, bin), args, {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
      timeout: 60_000,
    });
  const claude = help('claude', ['--help']);
  for (const flag of [
    '--print',
    '--output-format',
    '--verbose',
    '--permission-mode',
    '--dangerously-skip-permissions',
    '--model',
    '--resume',
    '--max-budget-usd',
  ]) {
    assert.ok(claude.includes(flag), `claude --help lacks ${flag}`);
  }
  const codex = help('codex', ['exec', '--help']);
  for (const flag of [
    '--json',
    '--sandbox',
    '--skip-git-repo-check',
    '--model',
    'resume',
    'workspace-write',
  ]) {
    assert.ok(codex.includes(flag), `codex exec --help lacks ${flag}`);
  }
  assert.ok(help('codex', ['exec', 'resume', '--help']).includes('SESSION_ID'));
  const gemini = help('gemini', ['--help']);
  for (const flag of [
    '--prompt',
    '--output-format',
    'stream-json',
    '--approval-mode',
    '--model',
    '--resume',
  ]) {
    assert.ok(gemini.includes(flag), `gemini --help lacks ${flag}`);
  }
});

test("a reported session id is never passed on unless it has the CLI's own format (no flag injection)", () => {
  const hostile = [
    '--dangerously-bypass-approvals-and-sandbox',
    '--dangerously-skip-permissions',
    '-c',
    'sess-1',
    `${CLAUDE_SESSION} --yolo`,
    `${CLAUDE_SESSION}\n--yolo`,
    '../../etc/passwd',
  ];
  for (const kind of ['claude', 'codex', 'gemini'] as const) {
    for (const id of hostile) {
      assert.throws(
        () => build(ctx({ kind }, { resumeSessionId: id })),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, `${kind}: ${JSON.stringify(id)} not a ConfigError`);
          assert.match(e.message, /refusing to resume .*not a .* id \(a UUID\)/);
          return true;
        },
        `${kind} accepted ${JSON.stringify(id)}`,
      );
    }
  }
  // The real ids pass, each as one argument that cannot be read as a flag.
  const claude = build(ctx({ kind: 'claude' }, { resumeSessionId: CLAUDE_SESSION })).argv;
  assert.equal(claude.filter((a) => a.includes(CLAUDE_SESSION)).length, 1);
  assert.ok(claude.includes(`--resume=${CLAUDE_SESSION}`));
  const codex = build(ctx({ kind: 'codex' }, { resumeSessionId: CODEX_THREAD })).argv;
  assert.equal(codex.at(-2), CODEX_THREAD);
  const gemini = build(ctx({ kind: 'gemini' }, { resumeSessionId: GEMINI_SESSION })).argv;
  assert.ok(gemini.includes(`--resume=${GEMINI_SESSION}`));
  assert.ok(!gemini.includes('--resume'));
});
