/**
 * Files at rest: the home holds secrets in clear (run logs, prompts, the
 * database, config.yaml), so everything agentboard writes there is the
 * owner's only: folders 0700, files 0600, whatever the umask.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { addTask } from '../../src/app/tasks.js';
import { ensureHome, resolvePaths } from '../../src/config/home.js';
import { shAgent, startBoard, taskNo, waitForStatus } from '../engine/harness.js';
import { tempDir } from '../support/tmp.js';

const BIN = fileURLToPath(new URL('../../../bin/agentboard.js', import.meta.url));

/** Every entry under `root` (itself included), with its permission bits. */
function modes(root: string): { rel: string; mode: string; dir: boolean }[] {
  const out: { rel: string; mode: string; dir: boolean }[] = [];
  const walk = (p: string) => {
    const st = fs.lstatSync(p);
    const rel = path.relative(root, p) || '.';
    out.push({ rel, mode: (st.mode & 0o777).toString(8), dir: st.isDirectory() });
    if (st.isDirectory()) for (const n of fs.readdirSync(p)) walk(path.join(p, n));
  };
  walk(root);
  return out;
}

/** The `agentboard` launcher agents run (engine/cli-shim.ts): executable, by its owner alone. */
const EXECUTABLE = 'bin/agentboard';

/** Runs `fn` with the given umask, restoring the process's own after. */
async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const old = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(old);
  }
}

describe('files at rest are the owner’s only', () => {
  test('after a run, every folder under a fresh home is 0700 and every file 0600, even with umask 000', async (t) => {
    // umask 000 would make anything created without an explicit mode 0777/0666.
    const b = await withUmask(0, () =>
      startBoard({
        agents: { bot: shAgent('cat; echo "API_KEY=sk-secret"; echo oops >&2') },
      }),
    );
    t.after(() => b.close());
    await withUmask(0, async () => {
      const view = await addTask(b.app, {
        title: 'x',
        body: 'the prompt',
        agent: 'bot',
        verifyCommand: 'echo verified',
      });
      await waitForStatus(b.app, taskNo(view), 'done', 15_000);
      // The helper makes spare run directories once idle: let it.
      await new Promise((r) => setTimeout(r, 300));
    });
    const all = modes(b.app.paths.home);
    const names = new Set(all.map((m) => path.basename(m.rel)));
    for (const n of [
      'agentboard.db',
      'agentboard.db-wal',
      'agentboard.db-shm',
      'runs',
      '.spares',
    ]) {
      assert.ok(names.has(n), `${n} exists`);
    }
    for (const n of [
      'stdout.log',
      'stderr.log',
      'prompt.md',
      'shim.pid',
      'exit.json',
      'verify.log',
      'agentboard',
    ]) {
      assert.ok(names.has(n), `${n} exists`);
    }
    assert.ok(
      all.some((m) => m.rel === EXECUTABLE),
      'the launcher for agents was not written',
    );
    const loose = all.filter((m) => m.mode !== (m.dir || m.rel === EXECUTABLE ? '700' : '600'));
    assert.deepEqual(loose, [], 'entries not private');
  });

  test('init writes config.yaml 0600 in a 0700 home, whatever the umask', () => {
    const dir = tempDir('agentboard-modes-');
    const home = path.join(dir, 'home');
    const r = spawnSync(
      '/bin/sh',
      ['-c', `umask 000 && exec "${process.execPath}" "${BIN}" init`],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', AGENTBOARD_HOME: home },
        cwd: dir,
        encoding: 'utf8',
      },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, '');
    const got = Object.fromEntries(modes(home).map((m) => [m.rel, m.mode]));
    assert.deepEqual(got, {
      '.': '700',
      'config.yaml': '600',
      'agentboard.db': '600',
      runs: '700',
    });
  });

  test('an existing home looser than 0700: tightened when it holds only a board, else left with a warning', () => {
    const dir = tempDir('agentboard-modes-');
    // Made by an older version (or `mkdir`): 0755, holding a board.
    const paths = resolvePaths({ AGENTBOARD_HOME: path.join(dir, 'old') }, dir);
    fs.mkdirSync(paths.runs, { recursive: true, mode: 0o755 });
    fs.chmodSync(paths.home, 0o755);
    fs.chmodSync(paths.runs, 0o755);
    fs.writeFileSync(paths.config, 'agents: {}\n');
    const warnings: string[] = [];
    const warn = (m: string) => {
      warnings.push(m);
    };
    assert.equal(ensureHome(paths, warn), null);
    assert.equal(fs.statSync(paths.home).mode & 0o777, 0o700);
    assert.equal(fs.statSync(paths.runs).mode & 0o777, 0o700);
    assert.deepEqual(warnings, []);

    // AGENTBOARD_HOME pointed at a folder with other things in it: not ours to change.
    const shared = resolvePaths({ AGENTBOARD_HOME: path.join(dir, 'project') }, dir);
    fs.mkdirSync(shared.home, { mode: 0o755 });
    fs.chmodSync(shared.home, 0o755);
    fs.writeFileSync(path.join(shared.home, 'package.json'), '{}');
    const warning = ensureHome(shared, warn);
    assert.equal(fs.statSync(shared.home).mode & 0o777, 0o755, 'left as it was');
    assert.match(
      warning ?? '',
      /is mode 0755: other users may read .* holds more than a board \(package\.json\): run `chmod 700 /,
    );
    assert.deepEqual(warnings, [warning]);
    assert.equal(fs.statSync(shared.runs).mode & 0o777, 0o700, 'its runs/ is private all the same');
  });
});
