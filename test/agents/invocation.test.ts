import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
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
    cwd: '/work/repo',
    boardHome: '/work/board',
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
  for (const kind of ['claude', 'codex', 'gemini', 'cursor', 'amp'] as const) {
    for (const id of [...hostile, ...(kind === 'amp' ? [CLAUDE_SESSION] : [])]) {
      assert.throws(
        () => build(ctx({ kind }, { resumeSessionId: id })),
        (e: unknown) => {
          assert.ok(e instanceof ConfigError, `${kind}: ${JSON.stringify(id)} not a ConfigError`);
          assert.match(e.message, /refusing to resume .*not a .* id \((a UUID|T- and a UUID)\)/);
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
  const cursor = build(ctx({ kind: 'cursor' }, { resumeSessionId: CLAUDE_SESSION })).argv;
  assert.equal(cursor[cursor.indexOf('--resume') + 1], CLAUDE_SESSION);
  const thread = `T-${CLAUDE_SESSION}`;
  const amp = build(ctx({ kind: 'amp' }, { resumeSessionId: thread })).argv;
  assert.deepEqual(amp.slice(1, 4), ['threads', 'continue', thread]);
});

// The board's own files (issue 16): with the home inside the agent's cwd, each CLI gets its own
// deny rule for it, or the start is refused where it could write there unasked.
const INSIDE = { cwd: '/work/repo', boardHome: '/work/repo/.agentboard' };
const OUTSIDE = { cwd: '/work/repo', boardHome: '/work/board' };
const unprotected = (e: unknown) =>
  e instanceof ConfigError &&
  /home is inside the agent's workspace.*AGENTBOARD_HOME/.test(e.message);

test('a home outside the cwd leaves every argv as it was', () => {
  const agents: Array<Partial<AgentConfig> & { kind: AgentConfig['kind'] }> = [
    { kind: 'claude', permission_mode: 'bypassPermissions' },
    { kind: 'codex' },
    { kind: 'codex', permission_mode: 'danger-full-access' },
    { kind: 'gemini', permission_mode: 'yolo' },
    { kind: 'qwen', permission_mode: 'yolo' },
    { kind: 'copilot', permission_mode: 'allow-all-tools' },
    { kind: 'opencode' },
    { kind: 'cursor', permission_mode: 'force' },
    { kind: 'amp' },
  ];
  for (const agent of agents) {
    const a = build(ctx(agent, OUTSIDE)).argv;
    // Another home outside, and the cwd inside the home (a worktree): the same argv.
    assert.deepEqual(build(ctx(agent, { boardHome: '/elsewhere/board' })).argv, a, agent.kind);
    assert.deepEqual(
      build(ctx(agent, { cwd: '/work/board/worktrees/T-1', boardHome: '/work/board' })).argv,
      a,
      agent.kind,
    );
    // A sibling that only shares a prefix is outside too.
    assert.deepEqual(build(ctx(agent, { boardHome: '/work/repo-board' })).argv, a, agent.kind);
    assert.ok(!a.some((x) => x.includes('/work/board')), `${agent.kind}: ${a.join(' ')}`);
  }
});

test('Claude Code: a --settings deny rule for the home inside the cwd, as one argument', () => {
  for (const mode of [undefined, 'acceptEdits', 'default', 'dontAsk'] as const) {
    const argv = build(ctx({ kind: 'claude', permission_mode: mode, args: ['--x'] }, INSIDE)).argv;
    const i = argv.indexOf('--settings');
    assert.ok(i > 0, `${mode}: ${argv.join(' ')}`);
    assert.deepEqual(JSON.parse(argv[i + 1] ?? ''), {
      permissions: { deny: ['Edit(//work/repo/.agentboard/**)'] },
    });
    assert.equal(argv.at(-1), '--x', 'the user args still come last');
  }
  // The home is the cwd itself: all of it is denied.
  const same = build(ctx({ kind: 'claude' }, { cwd: '/work/repo', boardHome: '/work/repo' })).argv;
  assert.ok(same.includes(JSON.stringify({ permissions: { deny: ['Edit(//work/repo/**)'] } })));
});

test('Claude Code: bypassPermissions and auto with the home inside are refused unless opted in', () => {
  for (const agent of [
    { kind: 'claude' as const, permission_mode: 'bypassPermissions' },
    { kind: 'claude' as const, permission_mode: 'dangerously-skip-permissions' },
    { kind: 'claude' as const, permission_mode: 'auto' },
    { kind: 'claude' as const, args: ['--dangerously-skip-permissions'] },
  ]) {
    assert.throws(() => build(ctx(agent, INSIDE)), unprotected, JSON.stringify(agent));
    const argv = build(ctx(agent, { ...INSIDE, boardWritesAllowed: true })).argv;
    assert.ok(argv.includes('--settings'), 'opted in: the rule still stops its file tools');
  }
});

test('Codex: workspace-write with the home inside becomes a profile with the home read-only', () => {
  const inside = build(ctx({ kind: 'codex' }, INSIDE)).argv;
  assert.ok(!inside.includes('--sandbox'), 'a --sandbox would select the legacy policy');
  assert.ok(!inside.some((a) => a.startsWith('sandbox_mode')));
  const overrides = inside.flatMap((a, i) => (inside[i - 1] === '-c' ? [a] : []));
  assert.deepEqual(overrides, [
    'default_permissions="agentboard"',
    'permissions.agentboard.extends=":workspace"',
    'permissions.agentboard.filesystem={"/work/repo/.agentboard"="read"}',
  ]);
  assert.equal(inside.at(-1), '-');
  // Resumed: `exec resume` takes the same overrides; the thread id stays last but one.
  const resumed = build(ctx({ kind: 'codex' }, { ...INSIDE, resumeSessionId: CODEX_THREAD })).argv;
  assert.deepEqual(resumed.slice(1, 3), ['exec', 'resume']);
  assert.ok(resumed.includes('default_permissions="agentboard"'));
  assert.deepEqual(resumed.slice(-2), [CODEX_THREAD, '-']);
  // read-only writes nothing anyway: unchanged.
  const ro = { kind: 'codex' as const, permission_mode: 'read-only' };
  assert.deepEqual(build(ctx(ro, INSIDE)).argv, build(ctx(ro, OUTSIDE)).argv);
  for (const mode of ['danger-full-access', 'dangerously-bypass-approvals-and-sandbox'])
    assert.throws(() => build(ctx({ kind: 'codex', permission_mode: mode }, INSIDE)), unprotected);
});

test('Qwen Code and Copilot CLI: a deny rule for the home; the modes that run the shell unasked are refused', () => {
  const qwen = build(ctx({ kind: 'qwen', permission_mode: 'auto-edit' }, INSIDE)).argv;
  assert.ok(qwen.includes('--exclude-tools=Edit(//work/repo/.agentboard/**)'), qwen.join(' '));
  for (const mode of ['yolo', 'auto'])
    assert.throws(() => build(ctx({ kind: 'qwen', permission_mode: mode }, INSIDE)), unprotected);
  const copilot = build(ctx({ kind: 'copilot' }, INSIDE)).argv;
  assert.ok(copilot.includes('--deny-tool=write(/work/repo/.agentboard/**)'), copilot.join(' '));
  for (const mode of ['allow-all-tools', 'allow-all', 'yolo']) {
    const agent = { kind: 'copilot' as const, permission_mode: mode };
    assert.throws(() => build(ctx(agent, INSIDE)), unprotected);
    const opted = build(ctx(agent, { ...INSIDE, boardWritesAllowed: true })).argv;
    assert.ok(opted.includes('--deny-tool=write(/work/repo/.agentboard/**)'));
  }
});

test('Gemini, opencode, Cursor and Amp: no rule to give, so the modes that write unasked are refused', () => {
  for (const agent of [
    { kind: 'gemini' as const },
    { kind: 'gemini' as const, permission_mode: 'yolo' },
    { kind: 'opencode' as const },
    { kind: 'opencode' as const, permission_mode: 'allow' },
    { kind: 'cursor' as const },
    { kind: 'amp' as const },
  ]) {
    assert.throws(() => build(ctx(agent, INSIDE)), unprotected, JSON.stringify(agent));
    assert.doesNotThrow(() => build(ctx(agent, { ...INSIDE, boardWritesAllowed: true })));
  }
  // Modes in which every write or command needs an approval nobody gives headless: unchanged.
  for (const agent of [
    { kind: 'gemini' as const, permission_mode: 'default' },
    { kind: 'gemini' as const, permission_mode: 'plan' },
    { kind: 'opencode' as const, permission_mode: 'ask' },
    { kind: 'command' as const, command: 'my-agent' },
  ])
    assert.deepEqual(build(ctx(agent, INSIDE)).argv, build(ctx(agent, OUTSIDE)).argv);
});

test('the home is found inside the cwd through a symlink, and a path a glob would misread is refused', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-board-files-'));
  try {
    fs.mkdirSync(path.join(root, 'repo', '.agentboard'), { recursive: true });
    fs.symlinkSync(path.join(root, 'repo'), path.join(root, 'link'));
    const real = fs.realpathSync(path.join(root, 'repo', '.agentboard'));
    const argv = build(
      ctx({ kind: 'qwen' }, { cwd: path.join(root, 'link'), boardHome: real }),
    ).argv;
    assert.ok(argv.includes(`--exclude-tools=Edit(/${real}/**)`), argv.join(' '));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  for (const home of ['/work/repo/a*b', '/work/repo/x,y', '/work/repo/(z)'])
    assert.throws(
      () => build(ctx({ kind: 'claude' }, { cwd: '/work/repo', boardHome: home })),
      (e: unknown) => e instanceof ConfigError && /read as patterns/.test(e.message),
    );
});
