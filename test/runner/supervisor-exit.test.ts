import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AgentboardError } from '../../src/domain/errors.js';
import { readExitFile, resolveCommand, spawnSupervised } from '../../src/runner/supervisor.js';
import { agentEnv, exited, openFdCount, pattern, tempDir, waitFor } from './helpers.js';

function run(argv: string[], extra: { stdinFile?: string; runDir?: string; cwd?: string } = {}) {
  const runDir = extra.runDir ?? join(tempDir(), 'run');
  const spawned = spawnSupervised({
    runDir,
    argv,
    env: agentEnv(),
    cwd: dirname(runDir),
    ...extra,
  });
  return { runDir, spawned, exit: exited(spawned.child) };
}

test('exit codes 0, 3 and 137 (agent SIGKILLs itself) land in exit.json and the shim exit', async () => {
  for (const [script, want] of [
    ['exit 0', 0],
    ['exit 3', 3],
    ['kill -KILL $$', 137],
  ] as const) {
    const before = Date.now();
    const { runDir, spawned, exit } = run(['/bin/sh', '-c', script]);
    const { code, signal } = await exit;
    assert.deepEqual({ code, signal }, { code: want, signal: null }, script);
    const rec = readExitFile(runDir);
    assert.ok(rec, `exit.json for ${script}`);
    assert.equal(rec.code, want, script);
    // The end time is the file's mtime (the shim has no ms clock without forking `date`).
    assert.ok(
      rec.endedAt >= before - 5 && rec.endedAt <= Date.now() + 5,
      `ended_at ${rec.endedAt} is ms now`,
    );
    assert.equal(readFileSync(join(runDir, 'shim.pid'), 'utf8').trim(), String(spawned.pid));
  }
});

test('exit.json is one small in-place write: readers see nothing, or a record that parses', async () => {
  const runDir = tempDir();
  const seen: (number | null)[] = [];
  // Read on every change, as the engine's watcher does: a half-written file must never parse as a wrong code.
  const w = watch(runDir, (_event, name) => {
    if (name === 'exit.json') seen.push(readExitFile(runDir)?.code ?? null);
  });
  try {
    const { exit } = run(['/bin/sh', '-c', 'exit 5'], { runDir });
    assert.equal((await exit).code, 5);
    await waitFor('exit.json events', () => seen.length > 0);
    await sleep(50);
  } finally {
    w.close();
  }
  assert.ok(
    seen.every((c) => c === null || c === 5),
    seen.join(' '),
  );
  assert.equal(readExitFile(runDir)?.code, 5);
  assert.equal(existsSync(join(runDir, 'exit.json.tmp')), false);
});

test('stdout.log and stderr.log hold exactly the agent bytes, appended after what was there', async () => {
  const runDir = tempDir();
  writeFileSync(join(runDir, 'stdout.log'), 'earlier\n');
  // Interleaved writes of a few MB, every byte value included.
  const script = `${pattern.toString()}
    const out = pattern(3_000_000, 1), err = pattern(2_000_000, 2);
    const fs = require('node:fs');
    for (let i = 0; i < 10; i++) {
      fs.writeSync(1, out.subarray(i * 300_000, (i + 1) * 300_000));
      fs.writeSync(2, err.subarray(i * 200_000, (i + 1) * 200_000));
    }`;
  const { exit } = run([process.execPath, '-e', script], { runDir });
  assert.equal((await exit).code, 0);
  const stdout = readFileSync(join(runDir, 'stdout.log'));
  const stderr = readFileSync(join(runDir, 'stderr.log'));
  assert.ok(
    stdout.equals(Buffer.concat([Buffer.from('earlier\n'), pattern(3_000_000, 1)])),
    'stdout',
  );
  assert.ok(stderr.equals(pattern(2_000_000, 2)), 'stderr');
});

test('an agent killed by a signal leaves no shell message in stderr.log', async () => {
  // dash prints "Terminated" on its own stderr when a foreground child dies of
  // a signal; the shim keeps that out of the agent's log.
  const { runDir, exit } = run(['/bin/sh', '-c', 'printf "last words" >&2; kill -TERM $$']);
  assert.equal((await exit).code, 143);
  assert.equal(readExitFile(runDir)?.code, 143);
  assert.equal(readFileSync(join(runDir, 'stderr.log'), 'utf8'), 'last words');
});

test('argv reaches the agent verbatim and is never evaluated by a shell', async () => {
  const dir = tempDir();
  const pwned = join(dir, 'pwned');
  // The run dir's own name is hostile too: it travels by environment, not by script text.
  const runDir = join(dir, `run $(touch ${pwned}2) \`touch ${pwned}3\``);
  const args = [
    `$(touch ${pwned})`,
    `\`touch ${pwned}\``,
    `; touch ${pwned} #`,
    '"double" \'single\' \\back',
    'two words',
    '',
    'line\nbreak',
    '*',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a shell expansion, on purpose
    '$HOME ${PATH}',
  ];
  const script =
    "require('node:fs').writeFileSync('argv.json', JSON.stringify(process.argv.slice(1)))";
  const { exit } = run([process.execPath, '-e', script, ...args], { runDir, cwd: dir });
  assert.equal((await exit).code, 0);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'argv.json'), 'utf8')), args);
  for (const f of [pwned, `${pwned}2`, `${pwned}3`]) assert.equal(existsSync(f), false, f);
  assert.equal(readExitFile(runDir)?.code, 0);
});

test('stdin comes from stdinFile, else /dev/null; fds do not leak into us', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'prompt.txt'), 'the prompt\nsecond line\n');
  const fdsBefore = openFdCount();
  const withFile = run(['cat'], { runDir: join(dir, 'a'), stdinFile: join(dir, 'prompt.txt') });
  const without = run(['readlink', '/proc/self/fd/0'], { runDir: join(dir, 'b') });
  assert.equal(openFdCount(), fdsBefore, 'our copies of the log and stdin fds are closed');
  assert.equal((await withFile.exit).code, 0);
  assert.equal((await without.exit).code, 0);
  assert.equal(readFileSync(join(dir, 'a', 'stdout.log'), 'utf8'), 'the prompt\nsecond line\n');
  assert.equal(readFileSync(join(dir, 'b', 'stdout.log'), 'utf8'), '/dev/null\n');
});

test('the agent gets exactly the env given, plus the run dir', async () => {
  const runDir = join(tempDir(), 'run');
  const spawned = spawnSupervised({
    runDir,
    argv: ['/bin/sh', '-c', 'env | sort'],
    env: { PATH: '/usr/bin:/bin', AGENTBOARD_RUN_ID: 'r-1' },
    cwd: '/',
  });
  assert.equal((await exited(spawned.child)).code, 0);
  const lines = readFileSync(join(runDir, 'stdout.log'), 'utf8').trim().split('\n');
  // dash adds PWD; nothing of our own environment (HOME, NODE_*, ...) leaks in.
  assert.deepEqual(
    lines.filter((l) => !l.startsWith('PWD=')),
    [`AGENTBOARD_RUN_DIR=${runDir}`, 'AGENTBOARD_RUN_ID=r-1', 'PATH=/usr/bin:/bin'],
  );
});

test('a relative runDir means relative to us, not to the agent cwd', async () => {
  const abs = join(tempDir(), 'run');
  const agentCwd = join(tempDir(), 'a', 'b', 'c', 'd');
  mkdirSync(agentCwd, { recursive: true });
  const spawned = spawnSupervised({
    runDir: relative(process.cwd(), abs),
    argv: ['/bin/sh', '-c', 'echo out; exit 4'],
    env: agentEnv(),
    cwd: agentCwd,
  });
  assert.equal((await exited(spawned.child)).code, 4);
  assert.equal(readExitFile(abs)?.code, 4);
  assert.equal(readFileSync(join(abs, 'shim.pid'), 'utf8').trim(), String(spawned.pid));
  assert.equal(readFileSync(join(abs, 'stdout.log'), 'utf8'), 'out\n');
});

test('a missing command exits 127 with the reason in stderr.log', async () => {
  const { runDir, exit } = run(['agentboard-no-such-cli', '--flag']);
  assert.equal((await exit).code, 127);
  assert.equal(readExitFile(runDir)?.code, 127);
  assert.match(
    readFileSync(join(runDir, 'stderr.log'), 'utf8'),
    /agentboard-no-such-cli: not found/,
  );
});

test('spawn failures throw spawn_failed and close every fd', () => {
  const dir = tempDir();
  const fdsBefore = openFdCount();
  const attempt = (o: { shell?: string; cwd?: string }) => () =>
    spawnSupervised({
      runDir: join(dir, 'run'),
      argv: ['true'],
      env: agentEnv(),
      cwd: o.cwd ?? dir,
      shell: o.shell,
    });
  const isSpawnFailed = (re: RegExp) => (e: unknown) =>
    e instanceof AgentboardError && e.code === 'spawn_failed' && re.test(e.message);
  assert.throws(attempt({ shell: join(dir, 'no-sh') }), isSpawnFailed(/no-sh not found/));
  assert.throws(
    attempt({ cwd: join(dir, 'no-dir') }),
    isSpawnFailed(/working directory does not exist/),
  );
  for (const [argv, re] of [
    [[], /empty command/],
    [[''], /empty command/],
    [['-c', 'true'], /bad command name -c/],
  ] as const) {
    assert.throws(
      () =>
        spawnSupervised({ runDir: join(dir, 'run'), argv: [...argv], env: agentEnv(), cwd: dir }),
      isSpawnFailed(re),
    );
  }
  assert.equal(openFdCount(), fdsBefore);
});

test('resolveCommand finds executables, rejects the rest, and caches briefly', () => {
  const dir = tempDir();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'agent-x'), '#!/bin/sh\n');
  chmodSync(join(bin, 'agent-x'), 0o755);
  writeFileSync(join(bin, 'not-exec'), '');
  chmodSync(join(bin, 'not-exec'), 0o644);
  mkdirSync(join(bin, 'a-dir'));
  const PATH = `/nonexistent::${bin}:/bin`;

  assert.equal(resolveCommand('agent-x', PATH), join(bin, 'agent-x'));
  assert.equal(resolveCommand('sh', PATH), '/bin/sh');
  assert.equal(resolveCommand('a-dir', PATH), null);
  assert.equal(resolveCommand('no-such-cli-anywhere', PATH), null);
  assert.equal(resolveCommand('/bin/sh', ''), '/bin/sh');
  assert.equal(resolveCommand('./bin/agent-x', '', dir), join(bin, 'agent-x'));
  assert.equal(resolveCommand(join(bin, 'a-dir'), PATH), null);
  // No x bit at all: not executable, even for root.
  assert.equal(resolveCommand('not-exec', PATH), null);
  // Cached: removing the file is not noticed within the TTL (dispatch stays cheap)...
  rmSync(join(bin, 'agent-x'));
  assert.equal(resolveCommand('agent-x', PATH), join(bin, 'agent-x'));
  // ...while a different PATH is a different question.
  assert.equal(resolveCommand('agent-x', `${bin}:/usr/bin`), null);
});
