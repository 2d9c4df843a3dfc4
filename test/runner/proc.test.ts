import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  bootId,
  hasEnvMarker,
  isSameProcess,
  listProcessGroup,
  processStartTime,
  readProcStat,
  sampleGroupUsage,
} from '../../src/runner/proc.js';
import { signalGroup, spawnSupervised } from '../../src/runner/supervisor.js';
import { agentEnv, childrenOf, exited, tempDir, waitFor } from './helpers.js';

test('readProcStat parses our own stat', () => {
  const s = readProcStat(process.pid);
  assert.ok(s);
  assert.equal(s.pid, process.pid);
  assert.equal(s.ppid, process.ppid);
  assert.equal(s.state, 'R', 'we are running while we read it');
  assert.ok(s.startTime > 0 && Number.isInteger(s.startTime));
  assert.equal(processStartTime(process.pid), s.startTime);
  assert.ok(s.rssPages > 1000, 'node uses more than 4 MB');
  assert.equal(readProcStat(0x7ffffff0), null);
});

test('readProcStat reads past a comm full of spaces, parens and digits', async () => {
  const dir = tempDir();
  const name = join(dir, 'x) 1 2 3 (y'); // comm is the exec'd file's name, up to 15 chars
  symlinkSync('/bin/sleep', name);
  const child = spawn(name, ['5'], { stdio: 'ignore' });
  const exit = exited(child);
  try {
    const pid = child.pid;
    assert.ok(pid !== undefined);
    const s = readProcStat(pid);
    const us = readProcStat(process.pid);
    assert.ok(s && us);
    assert.equal(s.ppid, process.pid);
    assert.equal(s.pgrp, us.pgrp);
    assert.equal(s.session, us.session);
    assert.ok(s.startTime >= us.startTime);
    assert.match(s.state, /^[RSD]$/);
  } finally {
    child.kill('SIGKILL');
  }
  await exit;
});

test('isSameProcess: alive with the same start time only; zombies and dead pids are not', async () => {
  const us = processStartTime(process.pid);
  assert.ok(us !== null);
  assert.equal(isSameProcess(process.pid, us), true);
  assert.equal(isSameProcess(process.pid, us + 1), false, 'wrong start time = another process');

  // A zombie: `sleep 0` exits, and its parent exec'd into `sleep 5`, which never reaps it.
  const child = spawn('/bin/sh', ['-c', 'sleep 0 & exec sleep 5'], { stdio: 'ignore' });
  const exit = exited(child);
  const pid = child.pid;
  assert.ok(pid !== undefined);
  const start = processStartTime(pid);
  assert.ok(start !== null);
  try {
    await waitFor('zombie child', () => {
      const [z] = childrenOf(pid);
      return z !== undefined && readProcStat(z)?.state === 'Z';
    });
    const [zombie] = childrenOf(pid);
    assert.ok(zombie !== undefined);
    const zs = readProcStat(zombie);
    assert.ok(zs, 'a zombie still has a stat');
    assert.equal(isSameProcess(zombie, zs.startTime), false);
    assert.equal(isSameProcess(pid, start), true);
  } finally {
    child.kill('SIGKILL');
  }
  await exit;
  assert.equal(isSameProcess(pid, start), false, 'dead and reaped');
});

test('hasEnvMarker matches exact key=value entries only', async () => {
  const child = spawn('sleep', ['5'], {
    stdio: 'ignore',
    env: { PATH: process.env.PATH, AGENTBOARD_RUN_ID: 'run-1', OTHER: 'x=AGENTBOARD_RUN_ID=run-2' },
  });
  const exit = exited(child);
  const pid = child.pid;
  assert.ok(pid !== undefined);
  try {
    assert.equal(hasEnvMarker(pid, 'AGENTBOARD_RUN_ID', 'run-1'), true);
    assert.equal(hasEnvMarker(pid, 'AGENTBOARD_RUN_ID', 'run-'), false);
    assert.equal(hasEnvMarker(pid, 'AGENTBOARD_RUN_ID', 'run-12'), false);
    assert.equal(hasEnvMarker(pid, 'RUN_ID', 'run-1'), false);
    assert.equal(
      hasEnvMarker(pid, 'AGENTBOARD_RUN_ID', 'run-2'),
      false,
      'not inside another value',
    );
    assert.equal(hasEnvMarker(pid, 'OTHER', 'x=AGENTBOARD_RUN_ID=run-2'), true);
  } finally {
    child.kill('SIGKILL');
  }
  await exit;
  assert.equal(hasEnvMarker(pid, 'AGENTBOARD_RUN_ID', 'run-1'), false, 'dead pid');
});

test('listProcessGroup and sampleGroupUsage see a CPU-burning group, and only it', async () => {
  const runDir = tempDir();
  const burner = spawnSupervised({
    runDir,
    argv: [process.execPath, '-e', 'const t = Date.now(); while (Date.now() - t < 8000);'],
    env: agentEnv(),
    cwd: runDir,
  });
  const idle = spawnSupervised({
    runDir: tempDir(),
    argv: ['sleep', '8'],
    env: agentEnv(),
    cwd: runDir,
  });
  const exits = [exited(burner.child), exited(idle.child)];
  try {
    await waitFor('node started', () => listProcessGroup(burner.pgid).length === 2);
    assert.ok(listProcessGroup(burner.pgid).includes(burner.pid));
    assert.ok(!listProcessGroup(burner.pgid).includes(process.pid));
    await waitFor('300 ms of CPU', () => sampleGroupUsage(burner.pgid).cpuMs >= 300, 4000, 50);
    const busy = sampleGroupUsage(burner.pgid);
    assert.equal(busy.processes, 2, 'shim + node');
    assert.ok(busy.rssBytes > 20 * 1024 * 1024, `node's RSS counted (${busy.rssBytes})`);
    const calm = sampleGroupUsage(idle.pgid);
    assert.equal(calm.processes, 2, 'shim + sleep');
    assert.ok(calm.cpuMs < 100, `an idle group burns nothing (${calm.cpuMs} ms)`);
    assert.ok(calm.rssBytes > 0 && calm.rssBytes < busy.rssBytes);
  } finally {
    signalGroup(burner.pgid, 'SIGKILL');
    signalGroup(idle.pgid, 'SIGKILL');
  }
  await Promise.all(exits);
  await waitFor('groups gone', () => listProcessGroup(burner.pgid).length === 0);
  assert.deepEqual(sampleGroupUsage(burner.pgid), { cpuMs: 0, rssBytes: 0, processes: 0 });
});

test('bootId is the kernel boot id, stable across calls', () => {
  assert.match(bootId(), /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  assert.equal(bootId(), bootId());
});
