import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SPARES_DIR } from '../../src/runner/run-dir-pool.js';
import { readExitFile } from '../../src/runner/shim.js';
import { signalGroup } from '../../src/runner/signals.js';
import { type Spawned, Spawner } from '../../src/runner/spawner.js';
import { agentEnv, tempDir, waitFor } from './helpers.js';

type Ending = { code: number | null; signal: string | null } | 'orphaned';

/**
 * Waits on `p` with the event loop held open: the helpers and their channel
 * are unref'd (they must not keep an engine alive), so nothing else would.
 */
async function held<T>(p: Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => {}, 1000);
  try {
    return await p;
  } finally {
    clearInterval(keepAlive);
  }
}

function ending(spawner: Spawner, s: Spawned): Promise<Ending> {
  return held(
    new Promise<Ending>((resolve) =>
      spawner.onExit(
        s.pid,
        (code, signal) => resolve({ code, signal }),
        () => resolve('orphaned'),
      ),
    ),
  );
}

/** Starts `sh -c script` as run `id` under `dir/runs`. */
function launch(spawner: Spawner, dir: string, id: string, script: string): Promise<Spawned> {
  return held(
    spawner.spawn({
      runDir: join(dir, 'runs', id),
      argv: ['/bin/sh', '-c', script],
      env: agentEnv(),
      cwd: dir,
    }),
  );
}

/** The helpers this process forked. */
function helperPids(): number[] {
  return readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return (
          ppid === process.pid &&
          readFileSync(`/proc/${n}/cmdline`, 'utf8').includes('spawner-process')
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

test('concurrent launches through the helpers: each gets its own environment, exit reported once', async () => {
  const spawner = new Spawner();
  try {
    const dir = tempDir();
    // Y only for odd runs: a helper's later requests carry only differences
    // from its first, so a variable must also disappear when it should.
    const launches = Array.from({ length: 6 }, (_, i) =>
      spawner.spawn(
        {
          runDir: join(dir, 'runs', `r${i}`),
          argv: ['/bin/sh', '-c', 'echo "$X" "$(printenv Y || echo unset)"; cat; exit "$CODE"'],
          env: agentEnv({ X: `x${i}`, CODE: String(i), ...(i % 2 ? { Y: 'y' } : {}) }),
          cwd: dir,
          stdinFile: join(dir, 'runs', `r${i}`, 'prompt.md'),
        },
        `prompt ${i}\n`,
      ),
    );
    const spawned = await held(Promise.all(launches));
    const endings = await Promise.all(spawned.map((s) => ending(spawner, s)));
    for (let i = 0; i < 6; i++) {
      const runDir = join(dir, 'runs', `r${i}`);
      assert.deepEqual(endings[i], { code: i, signal: null });
      assert.equal(readExitFile(runDir)?.code, i);
      assert.equal(
        readFileSync(join(runDir, 'stdout.log'), 'utf8'),
        `x${i} ${i % 2 ? 'y' : 'unset'}\nprompt ${i}\n`,
      );
    }
    assert.ok(helperPids().length >= 1);
  } finally {
    spawner.close();
  }
});

test('a launch takes a spare run directory made while the helper was idle', async () => {
  const spawner = new Spawner();
  try {
    const dir = tempDir();
    const runs = join(dir, 'runs');
    const run = async (id: string) => ending(spawner, await launch(spawner, dir, id, 'echo ran'));
    assert.deepEqual(await run('first'), { code: 0, signal: null });
    const spareDir = join(runs, SPARES_DIR);
    // Every spare complete, and the same ones a moment later: the pool is full
    // and making no more, so the launch below can only take one of these.
    const completeSpares = (): string | false => {
      try {
        const names = readdirSync(spareDir).sort();
        const done = names.every((n) => readdirSync(join(spareDir, n)).length === 5);
        return names.length > 0 && done && names.join(',');
      } catch {
        return false;
      }
    };
    let seen: { names: string | false; since: number } = { names: false, since: 0 };
    await waitFor(
      'a full pool of spares',
      () => {
        const names = completeSpares();
        if (names !== seen.names) seen = { names, since: Date.now() };
        return names !== false && Date.now() - seen.since >= 200;
      },
      10_000,
    );
    const inodes = new Set(readdirSync(spareDir).map((n) => statSync(join(spareDir, n)).ino));
    assert.deepEqual(await run('second'), { code: 0, signal: null });
    assert.ok(inodes.has(statSync(join(runs, 'second')).ino), 'second run used a spare');
    assert.equal(readFileSync(join(runs, 'second', 'stdout.log'), 'utf8'), 'ran\n');
    assert.equal(readExitFile(join(runs, 'second'))?.code, 0);
  } finally {
    spawner.close();
  }
});

test('when a helper dies, the runs it started are handed back to be watched by their files', async () => {
  const spawner = new Spawner();
  const dir = tempDir();
  const s = await launch(spawner, dir, 'long', 'sleep 30');
  try {
    const ended = ending(spawner, s);
    for (const pid of helperPids()) process.kill(pid, 'SIGKILL');
    assert.equal(await ended, 'orphaned');
    // A later launch forks a new helper.
    const again = await launch(spawner, dir, 'after', 'exit 3');
    assert.deepEqual(await ending(spawner, again), { code: 3, signal: null });
  } finally {
    signalGroup(s.pgid, 'SIGKILL');
    spawner.close();
  }
});

const SPAWNER = fileURLToPath(new URL('../../src/runner/spawner.js', import.meta.url));
const HELPER = fileURLToPath(new URL('../../src/runner/spawner-process.js', import.meta.url));

/**
 * Runs `script` (an ES module) as the parent of spawner helpers, with its
 * stderr on a pipe: the helpers inherit it, so what is read from it after
 * the parent is gone is the helpers' own. The script prints one JSON line
 * `{helper, runDir}` once it is ready to be killed.
 */
async function killParentOfHelper(script: string): Promise<{
  helperGoneMs: number;
  stderr: string;
  agentAlive: boolean;
}> {
  const dir = tempDir();
  const file = join(dir, 'parent.mjs');
  writeFileSync(file, script);
  const parent = spawn(process.execPath, [file, dir, SPAWNER, HELPER], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  parent.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
  });
  const stderrClosed = new Promise((r) => parent.stderr.once('end', r));
  const line = await held(
    new Promise<string>((resolve, reject) => {
      let out = '';
      parent.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (out.includes('\n')) resolve(out.split('\n')[0] as string);
      });
      parent.once('exit', (code, sig) =>
        reject(new Error(`parent ended (${code ?? sig}): ${stderr}`)),
      );
    }),
  );
  const { helper, runDir } = JSON.parse(line) as { helper: number; runDir: string };
  const killedAt = Date.now();
  parent.kill('SIGKILL'); // unless it has already done so itself
  let shim = 0;
  try {
    await waitFor('the helper to exit', () => !isRunning(helper), 5000);
    const helperGoneMs = Date.now() - killedAt;
    await held(stderrClosed);
    await waitFor('the agent to start', () => readIfAny(join(runDir, 'shim.pid')).trim() !== '');
    shim = Number(readIfAny(join(runDir, 'shim.pid')));
    // Give an agent that would die with its helper the time to do so.
    await new Promise((r) => setTimeout(r, 200));
    return { helperGoneMs, stderr, agentAlive: isRunning(shim) };
  } finally {
    if (shim > 1) signalGroup(shim, 'SIGKILL');
  }
}

function readIfAny(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** Alive, and not a zombie waiting for whoever inherited it to reap it. */
function isRunning(pid: number): boolean {
  const stat = readIfAny(`/proc/${pid}/stat`);
  return stat !== '' && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
}

test('when its parent is SIGKILLed, an idle helper exits at once, quietly, leaving its agents running', async () => {
  const r = await killParentOfHelper(`
    import { readdirSync, readFileSync } from 'node:fs';
    const [dir, spawnerJs] = process.argv.slice(2);
    const { Spawner } = await import(spawnerJs);
    setInterval(() => {}, 1000);
    const spawner = new Spawner();
    const runDir = dir + '/runs/long';
    await spawner.spawn({ runDir, argv: ['sleep', '30'], env: { PATH: process.env.PATH }, cwd: dir });
    const helper = readdirSync('/proc').find((n) => {
      try {
        const st = readFileSync('/proc/' + n + '/stat', 'utf8');
        return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === process.pid;
      } catch { return false; }
    });
    console.log(JSON.stringify({ helper: Number(helper), runDir }));
  `);
  assert.equal(r.stderr, '', 'nothing on the helper’s stderr');
  assert.ok(r.helperGoneMs < 3000, `the helper exited after ${r.helperGoneMs} ms`);
  assert.ok(r.agentAlive, 'the agent outlives the helper');
});

test('a helper busy with a launch when its parent dies exits quietly when its answer finds nobody (no EPIPE trace)', async () => {
  // The request carries a large prompt: the parent dies once it is sent, and
  // the helper, still busy writing it, answers into a dead channel before it
  // can have read the channel's end.
  const r = await killParentOfHelper(`
    import { fork } from 'node:child_process';
    const [dir, , helperJs] = process.argv.slice(2);
    const helper = fork(helperJs, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    const runDir = dir + '/runs/big';
    const opts = { runDir, argv: ['/bin/sh', '-c', 'cat >/dev/null; sleep 30'], env: { PATH: process.env.PATH }, cwd: dir, stdinFile: runDir + '/prompt.md' };
    helper.send({ id: 1, opts, base: true, prompt: 'x'.repeat(8 << 20) }, () => {
      console.log(JSON.stringify({ helper: helper.pid, runDir }));
      process.kill(process.pid, 'SIGKILL');
    });
  `);
  assert.equal(r.stderr, '', 'nothing on the helper’s stderr');
  assert.ok(r.helperGoneMs < 3000, `the helper exited after ${r.helperGoneMs} ms`);
  assert.ok(r.agentAlive, 'the agent it had just started outlives it');
});
