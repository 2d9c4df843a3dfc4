/**
 * `agentboard schedule add|list|rm` as a user runs them: the real binary in a
 * child process, with AGENTBOARD_HOME in a temp dir. Needs the build.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { execCli } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'agentboard.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function board() {
  const dir = tempDir('agentboard-schedule-cli-');
  const home = join(dir, 'home');
  mkdirSync(home, { recursive: true });
  writeFileSync(
    join(home, 'config.yaml'),
    'agents:\n  triage:\n    kind: command\n    command: "true"\n',
  );
  const run = (args: string[], input = ''): Promise<Result> =>
    execCli(args, {
      env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, AGENTBOARD_HOME: home },
      cwd: dir,
      entry: BIN,
      input,
    });
  const json = async (args: string[]) => {
    const r = await run([...args, '--json']);
    assert.equal(r.code, 0, `${args.join(' ')} failed: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  /** Everything a schedule command could change, as the CLI reports it. */
  const state = async () =>
    JSON.stringify([
      // nextTickAt moves with the wall clock; everything else must stay put.
      (await json(['schedule', 'list'])).map((v: object) => ({ ...v, nextTickAt: null })),
      await json(['task', 'list']),
    ]);
  return { dir, home, run, json, state };
}

function assertUsage(r: Result, message: RegExp): void {
  assert.equal(r.code, 2, `exit code 2 (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '');
  const [first, ...rest] = r.stderr.trimEnd().split('\n');
  assert.equal(rest.length, 0, `one line: ${r.stderr}`);
  assert.match(first ?? '', message);
}

describe('agentboard schedule', { concurrency: 2 }, () => {
  test('add, list and rm', async () => {
    const b = board();
    const added = await b.json([
      'schedule',
      'add',
      '0 9 * * 1-5',
      '--agent',
      'triage',
      '--prompt',
      'Triage new issues',
      '--catch-up',
      'all',
      '--catch-up-window',
      '2h',
      '--overlap',
      'queue',
      '--timezone',
      'Europe/Paris',
    ]);
    assert.equal(added.id, 'S-1');
    assert.equal(added.cron, '0 9 * * 1-5');
    assert.equal(added.agent, 'triage');
    assert.equal(added.catchUp, 'all');
    assert.equal(added.catchUpWindowMs, 7_200_000);
    assert.equal(added.overlap, 'queue');
    assert.equal(added.timezone, 'Europe/Paris');
    assert.match(added.nextTickAt, /T0[78]:00:00\.000Z$/, 'next 09:00 Paris time');

    writeFileSync(join(b.dir, 'triage.md'), '# Weekly\n\nSummarise the week.\n');
    const task = await b.json(['task', 'add', 'Weekly summary', '--status', 'backlog']);
    const second = await b.run([
      'schedule',
      'add',
      '0 17 * * 5',
      '--agent',
      'triage',
      '--prompt-file',
      'triage.md',
      '--task',
      task.id,
    ]);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /^S-2 0 17 \* \* 5 → triage, next tick \d{4}-/);

    const listed = await b.json(['schedule', 'list']);
    assert.equal(listed.length, 2);
    assert.equal(listed[1].prompt, '# Weekly\n\nSummarise the week.\n');
    assert.equal(listed[1].task, task.id);
    const text = await b.run(['schedule', 'list']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^S-1 {2}0 9 \* \* 1-5 Europe\/Paris {2}triage: Triage new issues {2}\(next /m,
    );
    assert.match(text.stdout, /^S-2 {2}0 17 \* \* 5 {2}triage on T-1: # Weekly/m);

    const rm = await b.run(['schedule', 'rm', 'S-1']);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(rm.stdout, 'removed S-1\n');
    assert.deepEqual(
      (await b.json(['schedule', 'list'])).map((s: { id: string }) => s.id),
      ['S-2'],
    );
    assert.deepEqual(await b.json(['schedule', 'rm', '2']), { id: 'S-2', deleted: true });
    const empty = await b.run(['schedule', 'list']);
    assert.equal(empty.stdout, 'no schedules (add one with `agentboard schedule add`)\n');
  });

  test('bad input exits 2 with a clear message and changes nothing', async () => {
    const b = board();
    await b.json(['schedule', 'add', '*/5 * * * *', '--agent', 'triage', '--prompt', 'x']);
    await b.json(['task', 'add', 'Fixed', '--status', 'backlog']);
    writeFileSync(join(b.dir, 'p.md'), 'prompt');
    const before = await b.state();
    const ok = ['--agent', 'triage', '--prompt', 'Do it'];
    const cases: [string[], RegExp][] = [
      [
        ['schedule', 'add', '0 9 * *', ...ok],
        /^error: "0 9 \* \*" is not a valid cron expression \(.*\): use five fields/,
      ],
      [
        ['schedule', 'add', '0 0 30 2 *', ...ok],
        /^error: cron expression "0 0 30 2 \*" never fires/,
      ],
      [
        ['schedule', 'add', '0 9 * * *', '--agent', 'ghost', '--prompt', 'x'],
        /^error: agent "ghost" is not configured: add it under agents in .*config\.yaml \(configured: triage\)$/,
      ],
      [
        [
          'schedule',
          'add',
          '0 9 * * *',
          '--agent',
          'triage',
          '--prompt',
          'x',
          '--prompt-file',
          'p.md',
        ],
        /^error: give either --prompt or --prompt-file, not both$/,
      ],
      [
        ['schedule', 'add', '0 9 * * *', '--agent', 'triage'],
        /^error: a schedule needs a prompt: give --prompt "…" or --prompt-file FILE$/,
      ],
      [
        ['schedule', 'add', '0 9 * * *', ...ok, '--catch-up', 'most'],
        /^error: unknown catch-up policy "most"/,
      ],
      [
        ['schedule', 'add', '0 9 * * *', ...ok, '--overlap', 'wait'],
        /^error: unknown overlap policy "wait"/,
      ],
      [
        ['schedule', 'add', '0 9 * * *', ...ok, '--catch-up-window', 'soon'],
        /^error: "soon" is not a duration/,
      ],
      [
        ['schedule', 'add', '0 9 * * *', ...ok, '--timezone', 'Moon/Base'],
        /^error: "Moon\/Base" is not a time zone/,
      ],
      [
        ['schedule', 'add', '0 9 * * *', ...ok, '--task', 'T-1', '--overlap', 'allow'],
        /^error: a schedule on a fixed task cannot use --overlap allow/,
      ],
      [['schedule', 'add', '0 9 * * *', ...ok, '--prompt-file', 'nope.md'], /^error: give either/],
      [['schedule', 'rm', 'X-1'], /^error: "X-1" is not a schedule id: it looks like S-3$/],
    ];
    for (const [args, message] of cases) {
      assertUsage(await b.run(args), message);
    }
    const missingFile = await b.run([
      'schedule',
      'add',
      '0 9 * * *',
      '--agent',
      'triage',
      '--prompt-file',
      'nope.md',
    ]);
    assertUsage(missingFile, /^error: cannot read nope\.md: /);
    const gone = await b.run(['schedule', 'rm', 'S-9']);
    assert.equal(gone.code, 1);
    assert.match(
      gone.stderr,
      /^error: schedule S-9 not found: list schedules with `agentboard schedule list`\n$/,
    );
    assert.equal(await b.state(), before, 'nothing changed');
  });
});
