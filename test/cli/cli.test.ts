/**
 * The CLI as a user runs it: `node bin/agentboard.js ...` in a child process,
 * with AGENTBOARD_HOME in a temp dir. Needs the build (`npx tsc -p .`).
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openApp } from '../../src/app/context.js';
import { postMessage } from '../../src/app/messages.js';
import { addTask } from '../../src/app/tasks.js';
import { parseConfigText } from '../../src/config/load.js';
import { listRuns } from '../../src/store/runs.js';
import { execCli } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'agentboard.js');
const BASE_PATH = `${dirname(process.execPath)}:/usr/bin:/bin`;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

interface RunOptions {
  env?: Record<string, string>;
  input?: string;
  cwd?: string;
}

/** A fresh board home, and a runner bound to it. */
function board() {
  const dir = tempDir('agentboard-cli-');
  const home = join(dir, 'home');
  const run = (args: string[], o: RunOptions = {}): Promise<Result> => {
    // A clean environment: no NO_COLOR/FORCE_COLOR/TERM or database URL from the caller.
    const env = { PATH: BASE_PATH, AGENTBOARD_HOME: home, USER: 'tester', ...o.env };
    return execCli(args, {
      env,
      cwd: o.cwd ?? dir,
      entry: BIN,
      ...(o.input !== undefined ? { input: o.input } : {}),
    });
  };
  /** Runs a command that must succeed with `--json`, returning the parsed output. */
  const json = async (args: string[], o: RunOptions = {}) => {
    const r = await run([...args, '--json'], o);
    assert.equal(r.code, 0, `${args.join(' ')} failed: ${r.stderr}`);
    assert.equal(r.stderr, '');
    return JSON.parse(r.stdout);
  };
  return { dir, home, run, json };
}

/** Exit code `code` and exactly one `error:` line on stderr, matching `message`. */
function assertError(r: Result, code: 1 | 2, message: RegExp | string): void {
  assert.equal(r.code, code, `exit code (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '', 'nothing on stdout');
  const lines = r.stderr.trimEnd().split('\n');
  const errors = lines.filter((l) => l.startsWith('error: '));
  assert.equal(errors.length, 1, `one error line: ${r.stderr}`);
  assert.equal(lines[0], errors[0], 'the error comes first');
  assert.ok(!/^\s+at /m.test(r.stderr), `no stack trace: ${r.stderr}`);
  if (typeof message === 'string') assert.equal(errors[0], `error: ${message}`);
  else assert.match(errors[0] as string, message);
}

const ESC = '\u001b';

describe('agentboard CLI', { concurrency: 4 }, () => {
  test('init creates the home, a commented config.yaml and the database; again, it changes nothing', async () => {
    const b = board();
    const r = await b.run(['init']);
    assert.equal(r.code, 0, r.stderr);
    const config = join(b.home, 'config.yaml');
    assert.match(r.stdout, new RegExp(`^Created ${config}\\n`));
    assert.match(r.stdout, /No agent CLI found on PATH/);
    assert.ok(existsSync(join(b.home, 'agentboard.db')));
    assert.ok(existsSync(join(b.home, 'runs')));
    const text = readFileSync(config, 'utf8');
    assert.ok(text.startsWith('# agentboard configuration.'));
    assert.ok(text.split('\n').filter((l) => /^\s*#/.test(l)).length >= 20, 'commented');
    assert.deepEqual(parseConfigText(text, config).agents, {});

    writeFileSync(config, `${text}\n# my edit\n`);
    const again = await b.run(['init']);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /already exists \(left unchanged\)/);
    assert.ok(readFileSync(config, 'utf8').endsWith('# my edit\n'));
  });

  test('init --json enables the agent CLIs found on PATH', async () => {
    const b = board();
    const bin = join(b.dir, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'claude'), '#!/bin/sh\nexit 0\n');
    chmodSync(join(bin, 'claude'), 0o755);
    const out = await b.json(['init'], { env: { PATH: `${bin}:${BASE_PATH}` } });
    assert.deepEqual(out, {
      home: b.home,
      config: join(b.home, 'config.yaml'),
      created: true,
      detectedAgents: ['claude'],
    });
    const c = parseConfigText(readFileSync(out.config, 'utf8'), out.config);
    assert.deepEqual(Object.keys(c.agents), ['claude']);
    assert.equal(c.defaults.agent, 'claude');
  });

  test('task add with every common flag, --json', async () => {
    const b = board();
    assert.equal(
      (await b.run(['task', 'add', 'Set up CI'])).stdout,
      'T-1 added to todo: Set up CI\n',
    );
    writeFileSync(join(b.dir, 'spec.md'), '# Login\n\nThe form rejects valid passwords.\n');
    const t = await b.json([
      'task',
      'add',
      'Fix login',
      '--body-file',
      'spec.md',
      '--priority',
      'high',
      '--depends-on',
      'T-1',
      '--label',
      'a,b',
    ]);
    assert.equal(t.id, 'T-2');
    assert.equal(t.title, 'Fix login');
    assert.equal(t.body, '# Login\n\nThe form rejects valid passwords.\n');
    assert.equal(t.priority, 'high');
    assert.deepEqual(t.dependsOn, ['T-1']);
    assert.deepEqual(t.labels, ['a', 'b']);
    assert.equal(t.status, 'todo');
    assert.equal(t.agent, null);

    const more = await b.json(
      [
        'task',
        'add',
        'More',
        '--body-file',
        '-',
        '--label',
        'x',
        '--label',
        'y, z',
        '--status',
        'backlog',
        '--max-attempts',
        '5',
        '--verify',
        'npm test',
        '--loop',
        '--max-iterations',
        '3',
        '--loop-delay',
        '30s',
        '--depends-on',
        't-1,2',
      ],
      { input: 'from stdin' },
    );
    assert.equal(more.body, 'from stdin');
    assert.deepEqual(more.labels, ['x', 'y', 'z']);
    assert.equal(more.status, 'backlog');
    assert.equal(more.maxAttempts, 5);
    assert.equal(more.verifyCommand, 'npm test');
    assert.deepEqual(more.loop, {
      enabled: true,
      maxIterations: 3,
      delayMs: 30_000,
      doneFile: 'DONE',
    });
    assert.deepEqual(more.dependsOn, ['T-1', 'T-2']);
  });

  test('task list: columns with counts, --status, --all, --json', async () => {
    const b = board();
    await b.run(['task', 'add', 'First']);
    await b.run(['task', 'add', 'Second', '--priority', 'urgent', '--label', 'ui']);
    await b.run(['task', 'add', 'Someday', '--status', 'backlog']);
    await b.run(['task', 'add', 'Dropped']);
    await b.run(['task', 'cancel', 'T-4']);
    const r = await b.run(['task', 'list']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    const headers = r.stdout.split('\n').filter((l) => /^\S.* \(\d+\)$/.test(l));
    assert.deepEqual(headers, [
      'Backlog (1)',
      'Todo (2)',
      'In Progress (0)',
      'Review (0)',
      'Done (0)',
      'Blocked (0)',
    ]);
    const lines = r.stdout.split('\n');
    const todoAt = lines.indexOf('Todo (2)');
    assert.match(lines[todoAt + 1] as string, /^ {2}T-1 +medium +- +First$/);
    assert.match(lines[todoAt + 2] as string, /^ {2}T-2 +urgent +- +Second \[ui\]$/);
    assert.equal(lines[lines.indexOf('Review (0)') + 1], '  (empty)');
    assert.ok(!r.stdout.includes('Dropped'), 'cancelled cards are hidden by default');

    const all = await b.run(['task', 'list', '--all']);
    assert.match(all.stdout, /^Cancelled \(1\)\n {2}T-4 .*Dropped$/m);
    const only = await b.run(['task', 'list', '--status', 'backlog,todo']);
    assert.deepEqual(
      only.stdout.split('\n').filter((l) => /\(\d+\)$/.test(l)),
      ['Backlog (1)', 'Todo (2)'],
    );
    const list = await b.json(['task', 'list', '--status', 'todo']);
    assert.deepEqual(
      list.map((t: { id: string }) => t.id),
      ['T-1', 'T-2'],
    );
    assert.equal((await b.json(['task', 'list', '--label', 'ui']))[0].id, 'T-2');
  });

  test('task list honours NO_COLOR, even when FORCE_COLOR is unset or set', async () => {
    const b = board();
    await b.run(['task', 'add', 'Paint it', '--priority', 'urgent']);
    const forced = await b.run(['task', 'list'], { env: { FORCE_COLOR: '1' } });
    assert.ok(forced.stdout.includes(ESC), 'FORCE_COLOR=1 colours the board');
    const envs: Record<string, string>[] = [
      { NO_COLOR: '1' },
      { NO_COLOR: '1', FORCE_COLOR: '1' },
      {},
    ];
    for (const env of envs) {
      const r = await b.run(['task', 'list'], { env });
      assert.equal(r.code, 0);
      assert.ok(!r.stdout.includes(ESC), `ESC byte with ${JSON.stringify(env)}`);
      assert.match(r.stdout, /Todo \(1\)/);
    }
    for (const args of [
      ['task', 'show', 'T-1'],
      ['task', 'add', 'x'],
    ]) {
      const r = await b.run(args, { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
      assert.ok(!`${r.stdout}${r.stderr}`.includes(ESC), args.join(' '));
    }
  });

  const hasScript = spawnSync('script', ['--version']).status === 0;
  test('on a terminal the board is coloured unless NO_COLOR is set', {
    skip: !hasScript && 'no `script` to provide a pty',
  }, async () => {
    const b = board();
    await b.run(['task', 'add', 'On a tty']);
    // `script` gives the CLI a pty. Its stdin stays open until the CLI is done:
    // some versions of `script` end the session early when their stdin hits EOF.
    const onTty = (env: Record<string, string>) =>
      new Promise<Result>((resolve, reject) => {
        const child = spawn(
          'script',
          ['-qec', `${process.execPath} ${BIN} task list`, '/dev/null'],
          { env: { PATH: BASE_PATH, AGENTBOARD_HOME: b.home, TERM: 'xterm', ...env } },
        );
        let stdout = '';
        let stderr = '';
        child.stdout.setEncoding('utf8').on('data', (c: string) => {
          stdout += c;
        });
        child.stderr.setEncoding('utf8').on('data', (c: string) => {
          stderr += c;
        });
        child.on('error', reject);
        child.on('close', (code) => {
          child.stdin.end();
          resolve({ code, stdout, stderr });
        });
      });
    const coloured = await onTty({});
    assert.equal(coloured.code, 0, coloured.stderr);
    assert.match(coloured.stdout, /On a tty/, JSON.stringify(coloured));
    assert.ok(coloured.stdout.includes(ESC), 'a tty gets colour');
    const plain = await onTty({ NO_COLOR: '1' });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(plain.stdout, /On a tty/, JSON.stringify(plain));
    assert.ok(!plain.stdout.includes(ESC), 'NO_COLOR wins on a tty');
  });

  test('task show, edit, move, comment and cancel with --json', async () => {
    const b = board();
    await b.run(['task', 'add', 'Alpha']);
    await b.run(['task', 'add', 'Beta']);
    await b.run(['task', 'add', 'Gamma']);

    const edited = await b.json([
      'task',
      'edit',
      'T-1',
      '--title',
      'Alpha 2',
      '--priority',
      'low',
      '--label',
      'k',
      '--add-dep',
      'T-2',
    ]);
    assert.equal(edited.title, 'Alpha 2');
    assert.equal(edited.priority, 'low');
    assert.deepEqual(edited.labels, ['k']);
    assert.deepEqual(edited.dependsOn, ['T-2']);

    const moved = await b.json(['task', 'move', 'T-3', 'todo', '--position', '0']);
    assert.equal(moved.status, 'todo');
    const order = await b.json(['task', 'list', '--status', 'todo']);
    assert.deepEqual(
      order.map((t: { id: string }) => t.id),
      ['T-3', 'T-1', 'T-2'],
    );
    assert.equal((await b.json(['task', 'move', 't-2', 'Done'])).status, 'done');

    const c = await b.json(['task', 'comment', 'T-1', 'Looks good', '--author', 'rev']);
    assert.equal(c.author, 'rev');
    assert.equal(c.body, 'Looks good');
    assert.equal(typeof c.id, 'number');
    const c2 = await b.json(['task', 'comment', 'T-1', '--body-file', '-'], { input: 'piped\n' });
    assert.equal(c2.body, 'piped\n');
    assert.equal(c2.author, 'tester', 'defaults to $USER');

    const cancelled = await b.json(['task', 'cancel', 'T-3']);
    assert.equal(cancelled.status, 'cancelled');

    const shown = await b.json(['task', 'show', 'T-1']);
    assert.equal(shown.id, 'T-1');
    assert.equal(shown.title, 'Alpha 2');
    assert.deepEqual(shown.waitingOn, [], 'T-2 is done');
    assert.deepEqual(
      shown.comments.map((x: { author: string; body: string }) => [x.author, x.body]),
      [
        ['rev', 'Looks good'],
        ['tester', 'piped\n'],
      ],
    );
    assert.deepEqual(shown.runs, []);

    const text = await b.run(['task', 'show', 'T-1']);
    assert.equal(text.code, 0);
    assert.match(text.stdout, /^T-1 {2}Alpha 2\nstatus {4}Todo\npriority {2}low\n/);
    assert.match(text.stdout, /Comments \(2\)/);
    const plain = await b.run(['task', 'move', 'T-1', 'backlog']);
    assert.equal(plain.stdout, 'T-1 is now in backlog\n');
  });

  test('exit 1: a failure, with one line naming it', async () => {
    const b = board();
    await b.run(['task', 'add', 'Only']);
    assertError(
      await b.run(['task', 'show', 'T-99']),
      1,
      'task T-99 not found: list tasks with `agentboard task list`',
    );
    for (const args of [
      ['task', 'edit', 'T-99', '--title', 'x'],
      ['task', 'move', 'T-99', 'done'],
      ['task', 'comment', 'T-99', 'hi'],
      ['task', 'cancel', 'T-99'],
      ['task', 'add', 'x', '--depends-on', 'T-42'],
    ]) {
      assertError(await b.run(args), 1, /^error: task T-(99|42) not found: /);
    }
    assertError(
      await b.run(['task', 'move', 'T-1', 'in_progress']),
      1,
      'T-1 is todo: cannot move to in_progress. Allowed from todo: move to backlog, move to done, move to cancelled, start a run.',
    );
    assertError(
      await b.run(['task', 'edit', 'T-1', '--add-dep', 'T-1']),
      1,
      'that dependency would make a cycle: T-1 -> T-1',
    );
  });

  test('exit 2: usage errors name what is wrong and what is valid', async (t) => {
    const b = board();
    await b.run(['task', 'add', 'Only']);
    const cases: [string[], RegExp | string][] = [
      [
        ['task', 'move', 'T-1', 'finished'],
        'unknown status "finished": valid statuses are backlog, todo, in_progress, review, done, blocked, cancelled',
      ],
      [
        ['task', 'list', '--status', 'todo,nope'],
        'unknown status "nope": valid statuses are backlog, todo, in_progress, review, done, blocked, cancelled',
      ],
      [
        ['task', 'add', 'x', '--priority', 'extreme'],
        'unknown priority "extreme": valid priorities are low, medium, high, urgent',
      ],
      [
        ['task', 'add', 'x', '--max-attempts', 'abc'],
        'max-attempts must be a whole number >= 1, got "abc"',
      ],
      [
        ['task', 'add', 'x', '--max-attempts', '0'],
        'max-attempts must be a whole number >= 1, got "0"',
      ],
      [
        ['task', 'add', 'x', '--loop-delay', 'soon'],
        '"soon" is not a duration: use e.g. 500ms, 30s, 5m, 2h or 7d',
      ],
      [['task', 'add', 'x', '--max-cost', '-1'], 'max-cost must be a number > 0, got "-1"'],
      [
        ['task', 'move', 'T-1', 'done', '--position', '-1'],
        'position must be a whole number >= 0, got "-1"',
      ],
      [['task', 'show', 'abc'], '"abc" is not a task id: use the form T-42'],
      [['task', 'add', 'x', '--depends-on', 'T-x'], '"T-x" is not a task id: use the form T-42'],
      [
        ['task', 'add', 'x', '--status', 'in_progress'],
        'a new task cannot start as in_progress: use backlog, todo, review, done or blocked',
      ],
      [['task', 'add', '   '], 'a task needs a title'],
      [
        ['task', 'add', 'x', '--agent', 'ghost'],
        /^error: agent "ghost" is not configured: add it under agents in .*config\.yaml \(configured: none\)$/,
      ],
      [
        ['task', 'add', 'x', '--body', 'a', '--body-file', 'b'],
        'use --body or --body-file, not both',
      ],
      [
        ['task', 'add', 'x', '--body-file', 'missing.md'],
        /^error: cannot read missing\.md: ENOENT/,
      ],
      [['task', 'edit', 'T-1'], 'nothing to change: pass at least one option (see --help)'],
      [['task', 'comment', 'T-1'], 'give the comment text, or --body-file FILE (- for stdin)'],
      [['task', 'list', '--limit', '0'], 'limit must be a whole number >= 1, got "0"'],
      [['task', 'add'], "missing required argument 'title'"],
      [['task', 'move', 'T-1'], "missing required argument 'status'"],
      [['task', 'add', 'x', '--priority'], "option '--priority <p>' argument missing"],
      [['task', 'add', 'x', '--priorty', 'high'], "unknown option '--priorty'"],
      [['task', 'frob'], "unknown command 'frob'"],
    ];
    const results = await Promise.all(cases.map(([args]) => b.run(args)));
    for (const [i, [args, message]] of cases.entries()) {
      await t.test(args.join(' '), () => assertError(results[i] as Result, 2, message));
    }
    // Nothing was written by any of them.
    assert.deepEqual(
      (await b.json(['task', 'list'])).map((t: { id: string }) => t.id),
      ['T-1'],
    );
  });

  test('an invalid config.yaml is reported with its file and key path (exit 1)', async () => {
    const b = board();
    mkdirSync(b.home, { recursive: true });
    writeFileSync(
      join(b.home, 'config.yaml'),
      'agents:\n  claude:\n    kind: claude\n    max_concurrency: lots\n',
    );
    assertError(
      await b.run(['task', 'list']),
      1,
      `${join(b.home, 'config.yaml')}: agents.claude.max_concurrency: Invalid input: expected number, received string`,
    );
  });

  test('--help and --version exit 0', async () => {
    const b = board();
    const help = await b.run(['task', 'add', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--priority <p>/);
    const version = await b.run(['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
  });
});

describe('output into a reader that stops early (`| head`)', () => {
  /**
   * Runs the CLI with its stdout on a pipe whose reader takes the first chunk
   * and closes: every later write of the CLI meets a closed pipe (EPIPE).
   */
  function intoEarlyCloser(home: string, args: string[]) {
    return new Promise<{
      code: number | null;
      signal: string | null;
      first: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], {
        env: { PATH: BASE_PATH, AGENTBOARD_HOME: home },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let first = '';
      let stderr = '';
      child.stdout.once('data', (c: Buffer) => {
        first = c.toString('utf8');
        child.stdout.destroy();
      });
      child.stderr.setEncoding('utf8').on('data', (c: string) => {
        stderr += c;
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.once('error', reject);
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({ code, signal, first, stderr });
      });
    });
  }

  test('runs, logs and bus read end quietly with exit 0 when the reader goes away', async () => {
    const dir = tempDir('agentboard-cli-');
    const home = join(dir, 'home');
    mkdirSync(home, { recursive: true });
    // An agent nobody runs (no engine here): each task keeps a queued run.
    writeFileSync(
      join(home, 'config.yaml'),
      'agents:\n  bot:\n    kind: command\n    command: /bin/true\n',
    );
    // Far more than a pipe holds (64 KiB), so the CLI is still writing when the reader leaves.
    const app = await openApp({ env: { AGENTBOARD_HOME: home }, cwd: dir });
    let runId = '';
    try {
      for (let i = 0; i < 1100; i++) {
        await addTask(app, { title: `A task with a fairly long title, number ${i}`, agent: 'bot' });
      }
      for (let i = 0; i < 1100; i++) {
        await postMessage(app, {
          taskId: 1,
          type: 'PROGRESS',
          author: 'tester',
          body: `${i} `.repeat(40),
        });
      }
      const [run] = await listRuns(app.store.db, { order: 'asc' });
      assert.ok(run);
      runId = run.id;
      mkdirSync(join(app.paths.runs, runId), { recursive: true });
      writeFileSync(
        join(app.paths.runs, runId, 'stdout.log'),
        'a line of output\n'.repeat(100_000),
      );
    } finally {
      await app.store.close();
    }
    for (const args of [
      ['runs', '--limit', '1000'],
      ['logs', runId],
      ['bus', 'read'],
    ]) {
      const r = await intoEarlyCloser(home, args);
      const what = args.join(' ');
      assert.ok(r.first.length > 0, `${what}: printed something first`);
      assert.equal(r.stderr, '', `${what}: nothing on stderr`);
      assert.deepEqual([r.code, r.signal], [0, null], `${what}: exit 0`);
    }
  });
});
