/**
 * The board's home on a 4 MB tmpfs fills up while agents run. Meanwhile
 * writes answer 503 store_full naming the folder, reads and /healthz go on,
 * and the ends of the runs that exit cannot be recorded in the database
 * (their exit.json is: it overwrites a blank whose block was taken at the
 * spawn). Once the filler is deleted every run ends in its true state
 * (succeeded, or failed with its own exit code), none is left `running` and
 * none is judged lost. Needs root, for mount.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { readExitFile } from '../../src/runner/shim.js';
import { boardEnv, CLI_MAIN, type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { createBoard, killRunProcesses, runProcesses, waitFor } from './helpers.js';

const isRoot = process.getuid?.() === 0;
const TERMINAL = new Set(['succeeded', 'failed', 'timed_out', 'cancelled', 'lost']);

interface Step {
  ms: number;
  exit: number;
}

/** Agents that outlive the filling of the disk, each with its own exit status. */
const STEPS: Step[] = [
  { ms: 2500, exit: 0 },
  { ms: 3000, exit: 3 },
  { ms: 3500, exit: 0 },
  { ms: 4000, exit: 5 },
  { ms: 4500, exit: 0 },
  { ms: 5000, exit: 7 },
];

/**
 * The agent: sleeps, then exits with the status its prompt names. It writes
 * nothing, so a full disk cannot change how it ends: only the board's own
 * records (exit.json, the database) meet the full disk.
 */
const AGENT = `
const m = /PLAN (\\d+) (\\d+)/.exec(require('node:fs').readFileSync(0, 'utf8'));
setTimeout(() => process.exit(Number(m[2])), Number(m[1]));
`;

interface RunView {
  id: string;
  task: string;
  state: string;
  exitCode: number | null;
}

/** Every tmpfs still mounted, unmounted at the end whatever happened. */
const mounts = new Set<string>();
let server: ServeProcess | null = null;
after(async () => {
  await server?.kill('SIGKILL').catch(() => {});
  for (const m of mounts) {
    killRunProcesses(m);
    execFileSync('umount', ['-l', m]);
  }
});

test('a full disk: writes answer 503 store_full, and every run ends truly once space is back', {
  skip: isRoot ? false : 'needs root to mount a small tmpfs (run the suite as root)',
}, async () => {
  // A lease longer than the fault: a run whose lease may have lapsed is given up (lost).
  const board = createBoard({
    defaults: { lease: '30s' },
    agent: { command: process.execPath, args: ['-e', AGENT] },
  });
  const config = fs.readFileSync(path.join(board.home, 'config.yaml'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=0700', 'tmpfs', board.home], {
      stdio: 'pipe',
    });
  } catch (e) {
    assert.fail(
      `mount -t tmpfs failed although we are root: ${String((e as { stderr?: unknown }).stderr ?? e)}`,
    );
  }
  mounts.add(board.home);
  fs.writeFileSync(path.join(board.home, 'config.yaml'), config);
  server = await startServe(board.home, { logFile: board.serveLog });
  const base = server.url;
  assert.ok(base, server.output());
  // The owner's token, as the CLI reads it from the home.
  const auth = server.authHeaders();
  const api = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(`${base}${url}`, {
      method,
      ...(body !== undefined
        ? {
            headers: { 'content-type': 'application/json', ...auth },
            body: JSON.stringify(body),
          }
        : { headers: auth }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  const tasks: { id: string; step: Step }[] = [];
  for (const [i, step] of STEPS.entries()) {
    const r = await api('POST', '/api/v1/tasks', {
      title: `agent ${i}`,
      agent: 'bot',
      body: `PLAN ${step.ms} ${step.exit}`,
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    tasks.push({ id: String(r.json.id), step });
  }
  const runsOf = async (): Promise<RunView[]> =>
    ((await api('GET', '/api/v1/runs')).json.items as RunView[]) ?? [];
  await waitFor(
    'every agent running',
    async () => (await runsOf()).filter((r) => r.state === 'running').length === STEPS.length,
    30_000,
  );

  // Fill the disk to the last byte.
  const filler = path.join(board.home, 'filler');
  const filled = fillUp(filler);

  // Writes are refused with the folder named; SQLite may still fit a small
  // write into pages its files already hold, so write until one is refused.
  let refused: Record<string, unknown> | null = null;
  for (let i = 0; i < 50 && !refused; i++) {
    const r = await api('POST', '/api/v1/tasks', {
      title: `while full ${i}`,
      // Not to be run: only to fill the database.
      status: 'backlog',
      body: 'x'.repeat(100_000),
    });
    assert.ok(r.status === 201 || r.status === 503, `${r.status}: ${JSON.stringify(r.json)}`);
    if (r.status === 503) refused = r.json.error as Record<string, unknown>;
  }
  assert.ok(refused, `no write was refused on a full disk (filled ${filled} bytes)`);
  assert.equal(refused.code, 'store_full', JSON.stringify(refused));
  assert.match(String(refused.message), new RegExp(`disk holding ${board.home} is full`));
  assert.equal((await api('GET', '/healthz')).status, 200, 'healthz while full');
  assert.equal((await api('GET', '/api/v1/tasks')).status, 200, 'reads while full');

  // Every agent exits while the disk is still full: none of their ends can be recorded.
  await waitFor('every agent exited', () => runProcesses(board.home).length === 0, 30_000);
  const duringFull = await runsOf();
  assert.equal((await api('GET', '/api/v1/tasks')).status, 200, 'reads after the exits');
  await waitFor(
    'the engine trying to record an end',
    () => /could not record the end of run \S+: the disk holding/.test(server?.stderr ?? ''),
    15_000,
  );

  // The shims wrote their exit.json in place, into the blank the spawner took
  // its disk block for: a truncate-and-write would have left them empty.
  const exitFiles = duringFull.map((r) => readExitFile(path.join(board.home, 'runs', r.id)));
  const unwritten = exitFiles.filter((e) => e === null).length;
  fs.rmSync(filler);
  const freedAt = Date.now();
  const ended = await waitFor(
    'every run ended once space was back',
    async () => {
      const runs = await runsOf();
      return runs.length === STEPS.length && runs.every((r) => TERMINAL.has(r.state)) && runs;
    },
    60_000,
    250,
  ).catch(async (e: Error) => {
    const states = (await runsOf().catch(() => [])).map((r) => `${r.id} ${r.state}`);
    throw new Error(
      `${e.message}\nruns: ${states.join(', ')}\n${server?.output().slice(-4000) ?? ''}`,
    );
  });
  const recordedAfterMs = Date.now() - freedAt;
  console.log(
    `filled ${filled} bytes; exit.json unreadable: ${unwritten}/${STEPS.length}; running while full: ${duringFull.filter((r) => r.state === 'running').length}/${STEPS.length}; ` +
      `all ended ${recordedAfterMs} ms after space was freed`,
  );
  for (const t of tasks) {
    const run = ended.find((r) => r.task === t.id);
    assert.ok(run, `no run for ${t.id}`);
    assert.equal(run.exitCode, t.step.exit, `${t.id}: ${JSON.stringify(run)}`);
    assert.equal(run.state, t.step.exit === 0 ? 'succeeded' : 'failed', JSON.stringify(run));
  }
  assert.ok(
    duringFull.some((r) => r.state === 'running'),
    'no run was still unrecorded while the disk was full: the fault path was not exercised',
  );
  assert.equal(unwritten, 0, 'every exit.json was written on the full disk');
  assert.deepEqual(
    exitFiles.map((e) => e?.code).sort(),
    STEPS.map((st) => st.exit).sort(),
    "each exit.json holds its agent's status",
  );
  assert.equal(
    (await api('POST', '/api/v1/tasks', { title: 'after', status: 'backlog' })).status,
    201,
  );
});

test('a home that cannot be written: one line naming the path and the cause, exit 1, for the CLI and serve', {
  skip: isRoot ? false : 'needs root to mount small tmpfs file systems and to run as another user',
}, () => {
  const root = path.join(tempDir('agentboard-home-fault-'), 'mnt');
  fs.mkdirSync(root);
  const cli = (home: string, args: string[], uid?: number) => {
    const r = spawnSync(process.execPath, [CLI_MAIN, ...args], {
      env: boardEnv(home),
      encoding: 'utf8',
      timeout: 30_000,
      ...(uid !== undefined ? { uid, gid: uid } : {}),
    });
    return { code: r.status, stderr: r.stderr, stdout: r.stdout };
  };
  const expectOneLine = (
    r: { code: number | null; stderr: string },
    home: string,
    cause: string,
    where: string,
  ) => {
    assert.equal(r.code, 1, `${where}: ${r.stderr}`);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, `${where}: one line, no stack trace:\n${r.stderr}`);
    assert.match(lines[0] ?? '', /^error: /, where);
    assert.ok(lines[0]?.includes(home), `${where}: names ${home}: ${lines[0]}`);
    assert.ok(lines[0]?.includes(cause), `${where}: says ${cause}: ${lines[0]}`);
  };
  const mount = (opts: string) => {
    execFileSync('mount', ['-t', 'tmpfs', '-o', opts, 'tmpfs', root], { stdio: 'pipe' });
    mounts.add(root);
  };
  const unmount = () => {
    execFileSync('umount', [root]);
    mounts.delete(root);
  };

  // A read-only disk, nothing on it yet.
  mount('ro,size=1m');
  for (const args of [
    ['task', 'list'],
    ['serve', '--port', '0'],
  ]) {
    expectOneLine(cli(path.join(root, 'home'), args), root, 'EROFS', `read-only, ${args[0]}`);
  }
  unmount();

  // A board made, then its disk remounted read-only.
  mount('size=4m');
  const home = path.join(root, 'home');
  assert.equal(cli(home, ['init']).code, 0);
  execFileSync('mount', ['-o', 'remount,ro', root]);
  for (const args of [
    ['task', 'list'],
    ['serve', '--port', '0'],
  ]) {
    expectOneLine(cli(home, args), home, 'EROFS', `board on a read-only disk, ${args[0]}`);
  }
  unmount();

  // A full disk: the new board's database cannot be written.
  mount('size=1m');
  fillUp(path.join(root, 'filler'));
  expectOneLine(cli(path.join(root, 'home'), ['task', 'list']), root, 'is full', 'full disk');
  unmount();

  // Another user's folder.
  fs.chmodSync(root, 0o755);
  expectOneLine(cli(path.join(root, 'home'), ['task', 'list'], 65534), root, 'EACCES', 'EACCES');
});

/** Writes `file` until the disk is full to the last byte; returns how many bytes it took. */
function fillUp(file: string): number {
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  let filled = 0;
  try {
    for (let size = chunk.length; size > 0; ) {
      try {
        filled += fs.writeSync(fd, chunk, 0, size);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
        size >>= 1;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return filled;
}
