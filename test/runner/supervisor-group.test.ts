import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isSameProcess, listProcessGroup, readProcStat } from '../../src/runner/proc.js';
import {
  killGroupMembers,
  readExitFile,
  signalGroup,
  spawnSupervised,
  stopGroup,
} from '../../src/runner/supervisor.js';
import { agentEnv, bit, childrenOf, exited, signalMasks, tempDir, waitFor } from './helpers.js';

const SIGHUP = 1;
const SIGINT = 2;
const SIGTERM = 15;

function start(script: string, env: Record<string, string> = {}) {
  const runDir = tempDir();
  const spawned = spawnSupervised({
    runDir,
    argv: ['/bin/sh', '-c', script],
    env: agentEnv(env),
    cwd: runDir,
  });
  return { runDir, ...spawned, exit: exited(spawned.child) };
}

function readPid(file: string): number {
  return Number(readFileSync(file, 'utf8').trim());
}

function pidFileReady(file: string): () => boolean {
  return () => existsSync(file) && /^\d+\n$/.test(readFileSync(file, 'utf8'));
}

/** Pids in the group whose command name is `comm`. */
function membersNamed(pgid: number, comm: string): number[] {
  return listProcessGroup(pgid).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
    } catch {
      return false;
    }
  });
}

test('the agent and its grandchildren share one group and session, not ours', async () => {
  const a = start('sleep 30 & echo $! > gc.pid; wait');
  try {
    await waitFor('grandchild pid', pidFileReady(join(a.runDir, 'gc.pid')));
    const grandchild = readPid(join(a.runDir, 'gc.pid'));
    const [agent] = childrenOf(a.pid);
    assert.ok(agent !== undefined, 'the shim has the agent as its child');
    const us = readProcStat(process.pid);
    assert.ok(us);
    assert.equal(a.pgid, a.pid);
    for (const pid of [a.pid, agent, grandchild]) {
      const s = readProcStat(pid);
      assert.ok(s, `process ${pid}`);
      assert.equal(s.pgrp, a.pgid, `pgrp of ${pid}`);
      assert.equal(s.session, a.pid, `session of ${pid}`);
    }
    assert.notEqual(us.pgrp, a.pgid);
    assert.notEqual(us.session, a.pid);
    assert.deepEqual(
      listProcessGroup(a.pgid).sort((x, y) => x - y),
      [a.pid, agent, grandchild].sort((x, y) => x - y),
    );
  } finally {
    signalGroup(a.pgid, 'SIGKILL');
  }
  assert.equal((await a.exit).signal, 'SIGKILL');
  await waitFor('group gone', () => listProcessGroup(a.pgid).length === 0);
});

test('the agent outlives the process that spawned it (killed with SIGKILL)', async () => {
  const runDir = tempDir();
  const supervisor = new URL('../../src/runner/supervisor.js', import.meta.url).href;
  // A stand-in for the server: spawn, record identity, then die without any cleanup.
  const parent = `
    import { writeFileSync } from 'node:fs';
    import { spawnSupervised } from ${JSON.stringify(supervisor)};
    const runDir = process.argv[1];
    const s = spawnSupervised({ runDir, argv: ['/bin/sh', '-c', 'sleep 0.5; echo survived; exit 7'],
      env: { PATH: process.env.PATH }, cwd: runDir });
    writeFileSync(runDir + '/identity.json', JSON.stringify({ pid: s.pid, startTime: s.startTime, parent: process.pid }));
    process.kill(process.pid, 'SIGKILL');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', parent, runDir], {
    encoding: 'utf8',
  });
  const parentDiedAt = Date.now();
  assert.equal(r.signal, 'SIGKILL', r.stderr);
  const id = JSON.parse(readFileSync(join(runDir, 'identity.json'), 'utf8'));
  assert.ok(isSameProcess(id.pid, id.startTime), 'the shim is alive after its parent died');
  assert.notEqual(readProcStat(id.pid)?.ppid, id.parent, 'reparented');
  assert.equal(readExitFile(runDir), null, 'still running');

  await waitFor('exit.json', () => readExitFile(runDir) !== null);
  const rec = readExitFile(runDir);
  assert.equal(rec?.code, 7);
  assert.ok((rec?.endedAt ?? 0) >= parentDiedAt, 'it ended after its parent was gone');
  assert.equal(readFileSync(join(runDir, 'stdout.log'), 'utf8'), 'survived\n');
});

test('a caller that spawned an agent can exit normally while the agent runs', async () => {
  const runDir = tempDir();
  const supervisor = new URL('../../src/runner/supervisor.js', import.meta.url).href;
  const parent = `
    import { writeFileSync } from 'node:fs';
    import { spawnSupervised } from ${JSON.stringify(supervisor)};
    const runDir = process.argv[1];
    const s = spawnSupervised({ runDir, argv: ['sleep', '3'], env: { PATH: process.env.PATH }, cwd: runDir });
    s.child.on('exit', () => writeFileSync(runDir + '/saw-exit', ''));
    writeFileSync(runDir + '/identity.json', JSON.stringify({ pid: s.pid, startTime: s.startTime }));`;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', parent, runDir], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.ok(Date.now() - t0 < 2500, 'did not wait for the 3 s agent');
  const id = JSON.parse(readFileSync(join(runDir, 'identity.json'), 'utf8'));
  try {
    assert.ok(isSameProcess(id.pid, id.startTime));
    assert.equal(existsSync(join(runDir, 'saw-exit')), false);
  } finally {
    signalGroup(id.pid, 'SIGKILL');
  }
});

test('SIGTERM to the group reaches the agent with its default disposition; exit.json says 143', async () => {
  const a = start('exec sleep 30');
  await waitFor('agent exec', () => {
    const [agent] = childrenOf(a.pid);
    return agent !== undefined && membersNamed(a.pgid, 'sleep').includes(agent);
  });
  const [agent] = childrenOf(a.pid);
  assert.ok(agent !== undefined);
  const agentMasks = signalMasks(agent);
  const shimMasks = signalMasks(a.pid);
  for (const sig of [SIGHUP, SIGINT, SIGTERM]) {
    assert.equal(agentMasks.ignored & bit(sig), 0n, `agent ignores ${sig}`);
    assert.equal(agentMasks.caught & bit(sig), 0n, `agent catches ${sig}`);
    assert.notEqual(shimMasks.caught & bit(sig), 0n, `shim traps ${sig}`);
  }
  assert.equal(signalGroup(a.pgid, 'SIGTERM'), true);
  assert.deepEqual(await a.exit, { code: 143, signal: null }, 'the shim survived and exited 143');
  assert.equal(readExitFile(a.runDir)?.code, 143);
  assert.equal(signalGroup(a.pgid, 'SIGTERM'), false, 'ESRCH once the group is gone');
});

test('stopGroup SIGKILLs a group that ignores SIGTERM, after the grace, leaving nothing', async () => {
  const a = start('trap "" TERM; sleep 100 & sleep 100');
  await waitFor('two sleeps', () => membersNamed(a.pgid, 'sleep').length === 2);
  const t0 = Date.now();
  const outcome = await stopGroup(a.pgid, { graceMs: 300, isGone: () => false });
  const took = Date.now() - t0;
  assert.equal(outcome, 'killed');
  assert.ok(took >= 300, `waited the grace (${took} ms)`);
  assert.ok(took < 2000, `then killed promptly (${took} ms)`);
  assert.deepEqual(listProcessGroup(a.pgid), []);
  assert.equal((await a.exit).signal, 'SIGKILL');
  assert.equal(readExitFile(a.runDir), null, 'a SIGKILLed shim writes no exit.json');
});

test('stopGroup on a well-behaved agent: terminated within the grace, exit 143', async () => {
  const a = start('sleep 30');
  await waitFor('sleep', () => membersNamed(a.pgid, 'sleep').length === 1);
  const t0 = Date.now();
  assert.equal(await stopGroup(a.pgid, { graceMs: 5000, isGone: () => false }), 'terminated');
  assert.ok(Date.now() - t0 < 1000);
  assert.equal((await a.exit).code, 143);
  assert.equal(readExitFile(a.runDir)?.code, 143);
});

test('stopGroup signals nothing when the caller says the process is gone, or the group is', async () => {
  const a = start('sleep 30');
  try {
    assert.equal(await stopGroup(a.pgid, { graceMs: 100, isGone: () => true }), 'gone');
    assert.ok(isSameProcess(a.pid, a.startTime), 'not signalled');
  } finally {
    signalGroup(a.pgid, 'SIGKILL');
  }
  await a.exit;
  await waitFor('group gone', () => listProcessGroup(a.pgid).length === 0);
  assert.equal(await stopGroup(a.pgid, { graceMs: 100, isGone: () => false }), 'gone');
});

test('signalGroup refuses pgids that would hit us or everyone', () => {
  const own = readProcStat(process.pid)?.pgrp;
  assert.ok(own !== undefined);
  for (const pgid of [0, 1, -3, 1.5, own]) {
    assert.throws(() => signalGroup(pgid, 'SIGTERM'), /refusing/, String(pgid));
  }
});

test('killGroupMembers kills only the orphans carrying the run marker', async () => {
  const a = start(
    'sleep 30 & echo $! > marked.pid; env -u AGENTBOARD_RUN_ID sleep 30 & echo $! > unmarked.pid',
    { AGENTBOARD_RUN_ID: 'run-42' },
  );
  assert.equal((await a.exit).code, 0);
  assert.equal(readExitFile(a.runDir)?.code, 0, 'the agent itself is done');
  const marked = readPid(join(a.runDir, 'marked.pid'));
  const unmarked = readPid(join(a.runDir, 'unmarked.pid'));
  const startOf = (pid: number) => readProcStat(pid)?.startTime ?? -1;
  const markedStart = startOf(marked);
  const unmarkedStart = startOf(unmarked);
  try {
    assert.deepEqual(
      listProcessGroup(a.pgid).sort((x, y) => x - y),
      [marked, unmarked].sort((x, y) => x - y),
      'orphans remain in the group',
    );
    assert.equal(killGroupMembers(a.pgid, { key: 'AGENTBOARD_RUN_ID', value: 'run-4' }), 0);
    assert.equal(killGroupMembers(a.pgid, { key: 'AGENTBOARD_RUN_ID', value: 'run-42' }), 1);
    await waitFor('marked orphan dead', () => !isSameProcess(marked, markedStart));
    assert.ok(isSameProcess(unmarked, unmarkedStart), 'the unmarked process is left alone');
  } finally {
    signalGroup(a.pgid, 'SIGKILL');
  }
});
