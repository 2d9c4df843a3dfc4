import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { openApp } from '../../src/app/context.js';
import { resolvePaths } from '../../src/config/home.js';
import { loadConfig, parseConfigText } from '../../src/config/load.js';
import { agentCommand, configSchema } from '../../src/config/schema.js';
import { configTemplate } from '../../src/config/template.js';
import { ConfigError } from '../../src/domain/errors.js';
import { tempDir } from '../support/tmp.js';

const FILE = '/boards/demo/config.yaml';

/** Parses `yaml` expecting a ConfigError; returns its message. */
function invalid(yaml: string): string {
  try {
    parseConfigText(yaml, FILE);
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${String(e)}`);
    assert.equal(e.code, 'invalid_config');
    assert.equal(e.exitCode, 1);
    return e.message;
  }
  assert.fail(`accepted an invalid config:\n${yaml}`);
}

describe('config.yaml validation: each error names the file, the key path and what is expected', () => {
  test('a string where a number belongs', () => {
    assert.equal(
      invalid('agents:\n  claude:\n    kind: claude\n    max_concurrency: "2"\n'),
      `${FILE}: agents.claude.max_concurrency: Invalid input: expected number, received string`,
    );
  });

  test('token and token_file together', () => {
    assert.equal(
      invalid('agents:\n  claude:\n    kind: claude\n    token: abc\n    token_file: ~/.key\n'),
      `${FILE}: agents.claude.token_file: token and token_file are mutually exclusive: keep one`,
    );
  });

  test('an unknown key, at the top and inside an agent, lists the valid keys', () => {
    assert.equal(
      invalid('agents: {}\nboards: {}\n'),
      `${FILE}: (top level): unknown key "boards" (valid keys: agents, defaults, board, server)`,
    );
    const msg = invalid('agents:\n  claude:\n    kind: claude\n    modle: opus\n');
    assert.match(
      msg,
      /^\/boards\/demo\/config\.yaml: agents\.claude: unknown key "modle" \(valid keys: /,
    );
    for (const k of ['kind', 'command', 'model', 'token_file', 'max_concurrency']) {
      assert.ok(msg.includes(k), `${k} missing from: ${msg}`);
    }
    assert.match(
      invalid('defaults:\n  backoff: { base: 1s, jitter: 0.5, cap: 10m }\n'),
      /: defaults\.backoff: unknown key "cap" \(valid keys: base, factor, max, jitter\)$/,
    );
  });

  test('a bad duration', () => {
    assert.equal(
      invalid('defaults:\n  timeout: 5 minutes\n'),
      `${FILE}: defaults.timeout: "5 minutes" is not a duration: use e.g. 500ms, 30s, 5m, 2h or 7d`,
    );
    assert.match(
      invalid('agents:\n  a:\n    kind: claude\n    idle_timeout: -3s\n'),
      /agents\.a\.idle_timeout: "-3s" is not a duration/,
    );
  });

  test('a YAML syntax error gives the line', () => {
    assert.match(
      invalid('agents:\n  claude:\n    kind: claude\n   max_concurrency: 2\n'),
      /^\/boards\/demo\/config\.yaml:4: invalid YAML: /,
    );
    assert.match(
      invalid('board:\n  autostart: [true\n'),
      /^\/boards\/demo\/config\.yaml:\d+: invalid YAML: /,
    );
    // One line: no code frame.
    assert.ok(!invalid('a: b: c\n').includes('\n'));
  });

  test('enums, agent names and references to agents', () => {
    assert.match(
      invalid('agents:\n  x:\n    kind: robot\n'),
      /: agents\.x\.kind: Invalid option: expected one of "claude"\|"codex"\|.*"command"$/,
    );
    assert.equal(
      invalid('agents:\n  Claude:\n    kind: claude\n'),
      `${FILE}: agents.Claude: Invalid key in record: agent names are lower-case letters, digits, - and _`,
    );
    assert.equal(
      invalid('agents:\n  bot:\n    kind: claude\ndefaults:\n  agent: robot\n'),
      `${FILE}: defaults.agent: agent "robot" is not defined under agents (defined: bot)`,
    );
    assert.equal(
      invalid('agents:\n  sh:\n    kind: command\n'),
      `${FILE}: agents.sh.command: an agent of kind "command" needs a command`,
    );
    assert.equal(
      invalid('defaults:\n  on_queue_timeout: reassign\n'),
      `${FILE}: defaults.reassign_to: on_queue_timeout: reassign needs defaults.reassign_to`,
    );
    assert.match(
      invalid('board:\n  on_success: shipped\n'),
      /board\.on_success: Invalid option: expected one of "review"\|"done"/,
    );
    assert.match(invalid('defaults:\n  max_attempts: 0\n'), /defaults\.max_attempts: Too small/);
  });

  test('keys that are not plain names (__proto__, constructor, prototype) are refused with their path', () => {
    const reserved = '(it names part of every JavaScript object): rename it';
    // Before: a __proto__ agent set the parsed object's prototype and vanished without a word.
    assert.equal(
      invalid('agents:\n  __proto__:\n    kind: claude\n'),
      `${FILE}:2: agents.__proto__: "__proto__" cannot be used as a key ${reserved}`,
    );
    assert.equal(
      invalid('agents:\n  constructor:\n    kind: claude\n'),
      `${FILE}:2: agents.constructor: "constructor" cannot be used as a key ${reserved}`,
    );
    assert.equal(
      invalid('agents:\n  bot:\n    kind: claude\n    env:\n      OK: "1"\n      __proto__: x\n'),
      `${FILE}:6: agents.bot.env.__proto__: "__proto__" cannot be used as a key ${reserved}`,
    );
    assert.match(
      invalid('agents:\n  bot:\n    kind: claude\n    env: { prototype: "1" }\n'),
      /^\/boards\/demo\/config\.yaml:4: agents\.bot\.env\.prototype: "prototype" cannot/,
    );
    assert.match(invalid('__proto__: {}\n'), /config\.yaml:1: __proto__: /);
    assert.match(
      invalid('server:\n  allowed_hosts:\n    - a\n    - { constructor: 1 }\n'),
      /config\.yaml:4: server\.allowed_hosts\.1\.constructor: /,
    );
    assert.match(invalid('"__proto__": 1\n'), /: __proto__: /, 'quoted too');
    // Names that merely contain them are fine.
    const ok = parseConfigText(
      'agents:\n  proto:\n    kind: claude\n    env: { CONSTRUCTOR_X: "1", my_prototype: "2" }\n',
      FILE,
    );
    assert.deepEqual(Object.keys(ok.agents), ['proto']);
    assert.deepEqual(Object.keys(ok.agents.proto?.env ?? {}), ['CONSTRUCTOR_X', 'my_prototype']);
  });

  test('approvals: board refuses args by which Claude Code would ask nobody, or not us, naming the arg', () => {
    const board = (args: string[]) =>
      `agents:\n  c:\n    kind: claude\n    approvals: board\n    args: ${JSON.stringify(args)}\n`;
    for (const [args, named] of [
      [['--permission-mode=bypassPermissions'], '--permission-mode=bypassPermissions'],
      [['--permission-mode', 'bypassPermissions'], '--permission-mode bypassPermissions'],
      [
        ['--verbose', '--permission-mode', 'bypassPermissions'],
        '--permission-mode bypassPermissions',
      ],
      [['--dangerously-skip-permissions'], '--dangerously-skip-permissions'],
      [['--allow-dangerously-skip-permissions'], '--allow-dangerously-skip-permissions'],
      [['--permission-prompt-tool', 'mcp__x__y'], '--permission-prompt-tool'],
      [['--permission-prompt-tool=mcp__x__y'], '--permission-prompt-tool=mcp__x__y'],
    ] as const) {
      const message = invalid(board([...args]));
      assert.ok(message.includes(`agents.c.approvals: board`), message);
      assert.ok(message.includes(named), `${args.join(' ')}: ${message}`);
      assert.match(message, /remove it from agents\.c\.args|remove it from args/);
    }
    // Other modes in args, and the same args without board approvals, load.
    for (const args of [['--permission-mode', 'acceptEdits'], ['--permission-mode=plan']])
      assert.equal(parseConfigText(board(args), FILE).agents.c?.approvals, 'board');
    const agent = parseConfigText(
      'agents:\n  c:\n    kind: claude\n    args: ["--permission-prompt-tool=mcp__x__y"]\n',
      FILE,
    );
    assert.equal(agent.agents.c?.approvals, 'agent');
  });

  test('a top level that is not a mapping', () => {
    assert.equal(
      invalid('- agents\n- board\n'),
      `${FILE}: expected a mapping at the top level (agents, defaults, board, server)`,
    );
  });

  test('several problems are reported together, at most five and a count', () => {
    const yaml = `agents:\n${Array.from({ length: 7 }, (_, i) => `  a${i}:\n    kind: nope\n`).join('')}`;
    const lines = invalid(yaml).split('\n');
    assert.equal(lines.length, 6);
    assert.ok(lines.slice(0, 5).every((l) => l.startsWith(`${FILE}: agents.a`)));
    assert.equal(lines[5], '... and 2 more');
  });
});

describe('defaults', () => {
  test('an empty or comment-only file means every default and no agents', () => {
    for (const text of ['', '# nothing yet\n', '{}\n']) {
      const c = parseConfigText(text, FILE);
      assert.deepEqual(c, {
        agents: {},
        defaults: {
          max_attempts: 3,
          backoff: { base: 10_000, factor: 2, max: 600_000, jitter: 0.5 },
          timeout: 7_200_000,
          idle_timeout: 900_000,
          stop_grace: 10_000,
          queue_timeout: 1_800_000,
          on_queue_timeout: 'log_only',
          lease: 30_000,
        },
        board: {
          autostart: true,
          on_success: 'review',
          done_when_verified: true,
          max_concurrency: 8,
          workspace: 'shared',
          gc: { older_than: 604_800_000, keep_failed: false },
        },
        server: {
          host: '127.0.0.1',
          port: 4317,
          allowed_hosts: [],
          allowed_origins: [],
          auth: 'token',
        },
      });
    }
  });

  test('an agent gets its defaults; durations in any unit; partial sections are completed', () => {
    const c = parseConfigText(
      [
        'agents:',
        '  claude:',
        '    kind: claude',
        '    timeout: 90m',
        '  shell:',
        '    kind: command',
        '    command: ./agent.sh',
        '    args: ["--fast"]',
        '    max_concurrency: 4',
        'defaults:',
        '  agent: shell',
        '  backoff: { base: 500ms }',
        '  idle_timeout: 120',
        'board:',
        '  on_success: done',
        '',
      ].join('\n'),
      FILE,
    );
    const claude = c.agents.claude;
    assert.ok(claude);
    assert.equal(claude.max_concurrency, 2);
    assert.deepEqual(claude.args, []);
    assert.deepEqual(claude.env, {});
    assert.deepEqual(claude.labels, []);
    assert.equal(claude.timeout, 5_400_000);
    assert.equal(agentCommand(claude), 'claude');
    assert.equal(agentCommand(c.agents.shell as NonNullable<typeof claude>), './agent.sh');
    assert.equal(c.agents.shell?.max_concurrency, 4);
    assert.equal(c.defaults.agent, 'shell');
    assert.deepEqual(c.defaults.backoff, { base: 500, factor: 2, max: 600_000, jitter: 0.5 });
    assert.equal(c.defaults.idle_timeout, 120_000, 'a bare number is seconds');
    assert.equal(c.board.on_success, 'done');
    assert.equal(c.board.autostart, true);
  });

  test('loadConfig: a missing file means defaults; an unreadable one is an error naming it', () => {
    const dir = tempDir('agentboard-config-');
    assert.deepEqual(loadConfig(join(dir, 'absent.yaml')), configSchema.parse({}));
    mkdirSync(join(dir, 'config.yaml'));
    assert.throws(() => loadConfig(join(dir, 'config.yaml')), {
      name: 'ConfigError',
      message: new RegExp(`^${join(dir, 'config.yaml')}: cannot read: `),
    });
  });

  test('openApp refuses an invalid config.yaml before touching the database', async () => {
    const home = tempDir('agentboard-config-');
    writeFileSync(
      join(home, 'config.yaml'),
      'agents:\n  claude:\n    kind: claude\n    max_concurrency: many\n',
    );
    await assert.rejects(openApp({ env: { AGENTBOARD_HOME: home } }), {
      name: 'ConfigError',
      message: `${join(home, 'config.yaml')}: agents.claude.max_concurrency: Invalid input: expected number, received string`,
    });
  });

  test('AGENTBOARD_HOME places the config, the database and runs/ (default ./.agentboard)', () => {
    assert.deepEqual(resolvePaths({}, '/proj'), {
      home: '/proj/.agentboard',
      config: '/proj/.agentboard/config.yaml',
      database: '/proj/.agentboard/agentboard.db',
      runs: '/proj/.agentboard/runs',
    });
    assert.equal(resolvePaths({ AGENTBOARD_HOME: 'boards/x' }, '/proj').home, '/proj/boards/x');
    assert.equal(resolvePaths({ AGENTBOARD_HOME: '/abs' }, '/proj').config, '/abs/config.yaml');
  });
});

describe('the config.yaml written by init', () => {
  test('with no agent CLI found, it is valid and has no agents', () => {
    const text = configTemplate([]);
    const c = parseConfigText(text, FILE);
    assert.deepEqual(c.agents, {});
    assert.equal(c.defaults.agent, undefined);
    assert.deepEqual(c, configSchema.parse({}), 'the written values are the defaults');
    assert.ok(text.split('\n').filter((l) => l.trim().startsWith('#')).length > 20, 'commented');
  });

  test('with detected CLIs, those agents are enabled and the first is the default', () => {
    const c = parseConfigText(configTemplate(['codex', 'claude']), FILE);
    assert.deepEqual(Object.keys(c.agents).sort(), ['claude', 'codex']);
    assert.equal(c.agents.codex?.kind, 'codex');
    assert.equal(c.defaults.agent, 'codex');
  });
});
