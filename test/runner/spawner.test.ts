import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
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
    await waitFor('spares', () => {
      try {
        return readdirSync(spareDir).some((n) => readdirSync(join(spareDir, n)).length === 5);
      } catch {
        return false;
      }
    });
    const complete = readdirSync(spareDir).filter(
      (n) => readdirSync(join(spareDir, n)).length === 5,
    );
    const inodes = new Set(complete.map((n) => statSync(join(spareDir, n)).ino));
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
