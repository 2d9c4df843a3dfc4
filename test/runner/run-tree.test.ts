/**
 * run-tree.ts on real process trees whose agent starts a `setsid` escapee (a
 * process in its own session, out of the run's process group): freeze, thaw,
 * kill and the marker scan reach it, through the run's cgroup where this
 * machine has cgroup v2, and through signals and the environment marker
 * where a run has no cgroup.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { readProcStat } from '../../src/runner/proc.js';
import {
  cgroupRoot,
  freezeRunTree,
  isRunTreeFrozen,
  killRunTree,
  markedProcesses,
  RUN_MARKER_ENV,
  removeRunCgroup,
  runCgroupPath,
  thawRunTree,
} from '../../src/runner/run-tree.js';
import { killGroupMembers } from '../../src/runner/signals.js';
import { spawnSupervised } from '../../src/runner/supervisor.js';
import { agentEnv, tempDir, waitFor } from './helpers.js';

/**
 * The agent: starts an escapee that bumps a counter file every 50 ms in a
 * new session, records its pid, then sleeps in its own group.
 */
const AGENT = [
  `setsid sh -c 'echo $$ > esc.pid; i=0; while :; do i=$((i+1)); echo $i > count; sleep 0.05; done' &`,
  'sleep 300',
].join('\n');

interface Tree {
  runId: string;
  dir: string;
  pgid: number;
  escapee: number;
  child: ChildProcess;
}

let seq = 0;
function newRunId(): string {
  return `rt${process.pid}x${Date.now().toString(36)}x${seq++}`;
}

async function escapeeOf(dir: string): Promise<number> {
  const file = join(dir, 'esc.pid');
  await waitFor(
    'the escapee',
    () => existsSync(file) && /^\d+\n$/.test(readFileSync(file, 'utf8')),
  );
  return Number(readFileSync(file, 'utf8'));
}

/** Under the shim, as the engine starts agents (with a cgroup where the machine allows). */
async function startSupervised(): Promise<Tree> {
  const runId = newRunId();
  const cwd = tempDir();
  const s = spawnSupervised({
    runDir: join(tempDir(), runId),
    argv: ['/bin/sh', '-c', AGENT],
    env: agentEnv({ [RUN_MARKER_ENV]: runId }),
    cwd,
  });
  return { runId, dir: cwd, pgid: s.pgid, escapee: await escapeeOf(cwd), child: s.child };
}

/** Without the shim: a group leader carrying the marker, and no cgroup. */
async function startBare(): Promise<Tree> {
  const runId = newRunId();
  const dir = tempDir();
  const child = spawn('/bin/sh', ['-c', AGENT], {
    cwd: dir,
    env: agentEnv({ [RUN_MARKER_ENV]: runId }),
    detached: true,
    stdio: 'ignore',
  });
  child.unref();
  const pgid = child.pid as number;
  return { runId, dir, pgid, escapee: await escapeeOf(dir), child };
}

function alive(pid: number): boolean {
  const s = readProcStat(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

function count(dir: string): number {
  try {
    return Number(readFileSync(join(dir, 'count'), 'utf8')) || 0;
  } catch {
    return 0;
  }
}

/** The counter moves within `ms` (the escapee runs). */
async function counting(dir: string, ms = 3000): Promise<boolean> {
  const before = count(dir);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    await sleep(50);
    if (count(dir) !== before) return true;
  }
  return false;
}

function cleanup(t: Tree): void {
  for (const pid of [t.escapee, t.pgid]) {
    try {
      if (pid > 1) process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  try {
    process.kill(-t.pgid, 'SIGKILL');
  } catch {
    // gone
  }
}

async function freezeThawKill(t: Tree): Promise<void> {
  assert.ok(await counting(t.dir), 'the escapee runs before the freeze');
  assert.ok(markedProcesses(RUN_MARKER_ENV).get(t.runId)?.includes(t.escapee));

  freezeRunTree(t.runId, t.pgid);
  assert.ok(isRunTreeFrozen(t.runId, t.pgid));
  await waitFor('the escapee stopped', () => readProcStat(t.escapee)?.state === 'T');
  // The shim stays awake: an agent that already exited still gets its exit.json.
  assert.notEqual(readProcStat(t.pgid)?.state, 'T', 'the shim is not frozen');
  // Settled: a write in flight at the freeze may still land.
  await sleep(200);
  assert.ok(!(await counting(t.dir, 600)), 'the escapee keeps running while frozen');

  thawRunTree(t.runId, t.pgid);
  assert.ok(!isRunTreeFrozen(t.runId, t.pgid));
  assert.ok(await counting(t.dir), 'the escapee runs again after the thaw');

  // Frozen again, then killed: SIGKILL reaches frozen and stopped processes.
  freezeRunTree(t.runId, t.pgid);
  const n = killRunTree(t.runId, t.pgid);
  assert.ok(n >= 3, `signalled ${n}: the shell, its sleep and the escapee at least`);
  await waitFor('the escapee dead', () => !alive(t.escapee));
  await waitFor('the group gone', () => !alive(t.pgid));
  await waitFor('no marked process left', () => !markedProcesses(RUN_MARKER_ENV).has(t.runId));
}

test('a run under its cgroup: freeze, thaw and kill reach a setsid escapee', async (t) => {
  if (cgroupRoot() === null) {
    t.skip('no writable cgroup v2 here');
    return;
  }
  const tree = await startSupervised();
  try {
    const cg = runCgroupPath(tree.runId) as string;
    const procs = readFileSync(join(cg, 'cgroup.procs'), 'utf8').split('\n').map(Number);
    assert.ok(procs.includes(tree.pgid), 'the shim joined the run cgroup');
    assert.ok(procs.includes(tree.escapee), 'the escapee is in it too');
    assert.notEqual(readProcStat(tree.escapee)?.session, readProcStat(tree.pgid)?.session);
    await freezeThawKill(tree);
    removeRunCgroup(tree.runId);
    await waitFor('the cgroup removed', () => !existsSync(cg));
  } finally {
    thawRunTree(tree.runId, tree.pgid);
    cleanup(tree);
  }
});

test('a run without a cgroup: SIGSTOP, SIGCONT and SIGKILL reach a setsid escapee by its marker', async () => {
  const tree = await startBare();
  try {
    assert.equal(
      runCgroupPath(tree.runId) !== null && existsSync(runCgroupPath(tree.runId) as string),
      false,
    );
    assert.notEqual(readProcStat(tree.escapee)?.pgrp, tree.pgid, 'the escapee left the group');
    await freezeThawKill(tree);
  } finally {
    cleanup(tree);
  }
});

test('killRunTree leaves other runs and unmarked processes alone', async () => {
  const a = await startBare();
  const b = await startBare();
  const stranger = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
  stranger.unref();
  try {
    killRunTree(a.runId, a.pgid);
    await waitFor('run a gone', () => !alive(a.escapee) && !alive(a.pgid));
    await waitFor('nothing of run a left', () => !markedProcesses(RUN_MARKER_ENV).has(a.runId));
    assert.ok(alive(b.escapee) && alive(b.pgid), 'run b untouched');
    assert.ok(alive(stranger.pid as number), 'an unmarked process untouched');
    // A pgid that is not the run's (no member carries its marker) is not signalled.
    assert.equal(killRunTree(a.runId, stranger.pid as number), 0);
    assert.ok(alive(stranger.pid as number));
  } finally {
    cleanup(a);
    cleanup(b);
    stranger.kill('SIGKILL');
  }
});

test('killGroupMembers, after the agent exits, reaches escapees that left the group', async () => {
  const runId = newRunId();
  const dir = tempDir();
  const child = spawn(
    '/bin/sh',
    [
      '-c',
      `setsid sh -c 'echo $$ > esc.pid; exec sleep 300' & env -u ${RUN_MARKER_ENV} sleep 300 & echo $! > unmarked.pid; wait`,
    ],
    { cwd: dir, env: agentEnv({ [RUN_MARKER_ENV]: runId }), detached: true, stdio: 'ignore' },
  );
  const pgid = child.pid as number;
  const escapee = await escapeeOf(dir);
  await waitFor('the unmarked member', () => existsSync(join(dir, 'unmarked.pid')));
  const unmarked = Number(readFileSync(join(dir, 'unmarked.pid'), 'utf8'));
  try {
    process.kill(pgid, 'SIGKILL'); // the "agent" exits, leaving both behind
    await waitFor('the agent gone', () => !alive(pgid));
    assert.equal(killGroupMembers(pgid, { key: RUN_MARKER_ENV, value: runId }), 1);
    await waitFor('the escapee dead', () => !alive(escapee));
    assert.ok(alive(unmarked), 'an unmarked group member may be a stranger: left alone');
  } finally {
    for (const pid of [escapee, unmarked]) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
});

test('cost: cgroup create + join + remove, and one marker scan', async (t) => {
  const scans: number[] = [];
  for (let i = 0; i < 50; i++) {
    const t0 = performance.now();
    markedProcesses(RUN_MARKER_ENV);
    scans.push(performance.now() - t0);
  }
  const procs = markedProcesses('PATH').size;
  const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1]?.toFixed(3);
  t.diagnostic(
    `markedProcesses: median ${med(scans)} ms over ${procCount()} processes (${procs} PATH values)`,
  );
  if (cgroupRoot() === null) return;
  const mk: number[] = [];
  const rm: number[] = [];
  const joined: number[] = [];
  const plain: number[] = [];
  // The shim's line, in a shell that then exits, with and without a cgroup to join.
  const line = '[ -z "$CG" ] || echo $$ >"$CG/cgroup.procs"';
  for (let i = 0; i < 50; i++) {
    const dir = runCgroupPath(newRunId()) as string;
    let t0 = performance.now();
    mkdirSync(dir);
    mk.push(performance.now() - t0);
    t0 = performance.now();
    spawnSync('/bin/sh', ['-c', line], { env: { CG: dir } });
    joined.push(performance.now() - t0);
    t0 = performance.now();
    spawnSync('/bin/sh', ['-c', line], { env: { CG: '' } });
    plain.push(performance.now() - t0);
    t0 = performance.now();
    rmdirSync(dir);
    rm.push(performance.now() - t0);
  }
  t.diagnostic(
    `cgroup mkdir: median ${med(mk)} ms; rmdir: median ${med(rm)} ms; a shell run joining it: median ${med(joined)} ms, not joining: ${med(plain)} ms`,
  );
});

function procCount(): number {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).length;
}
