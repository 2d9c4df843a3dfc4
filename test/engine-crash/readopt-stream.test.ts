/**
 * A run keeps streaming through a server crash: `agentboard logs -f`, a
 * separate process, follows a run while the server is SIGKILLed and
 * restarted; it ends once the restarted server has recorded the run's end,
 * and what it printed is byte for byte what the agent wrote.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { runDir } from '../../src/config/home.js';
import { getRun } from '../../src/store/runs.js';
import { readLedger, renderOutput } from '../fixtures/crash-agent-lib.js';
import { type ServeProcess, spawnCli, startServe } from '../support/server.js';
import { addAgentTask, createBoard, killRunProcesses, runsOfTask, waitFor } from './helpers.js';

const BYTES = 3_000_000;
const EXIT = 7;

test('re-adoption keeps streaming: logs -f across a server SIGKILL', {
  timeout: 90_000,
}, async (t) => {
  const board = createBoard({ defaults: { max_attempts: 1 } });
  const app = await board.open();
  let server: ServeProcess | undefined;
  let follower: ReturnType<typeof spawnCli> | undefined;
  try {
    server = await startServe(board.home, { logFile: board.serveLog });
    const firstWorker = server.workerId;
    const taskId = await addAgentTask(app, 'steady output', {
      steps: [{ ms: 6000, exit: EXIT, bytes: BYTES }],
    });
    const run = await waitFor('the run to start', async () => {
      const [r] = await runsOfTask(app, taskId);
      return r?.state === 'running' && r.pid !== null ? r : undefined;
    });

    const logs = spawnCli(board.home, ['logs', '-f', run.id]);
    follower = logs;
    const chunks: Buffer[] = [];
    let received = 0;
    logs.stdout?.on('data', (b: Buffer) => {
      chunks.push(b);
      received += b.length;
    });
    let followerErr = '';
    logs.stderr?.on('data', (b: Buffer) => {
      followerErr += b.toString();
    });
    const followerDone = new Promise<number | null>((resolve) => logs.once('close', resolve));

    await waitFor('logs -f to print something', () => received > 0, 20_000);
    await sleep(500);
    await server.kill('SIGKILL');
    const atKill = received;
    const killedAt = Date.now();
    await sleep(1000); // down for a while: the agent keeps writing, logs -f keeps following
    server = await startServe(board.home, { logFile: board.serveLog });
    assert.match(server.stdout, /recovered: 1 re-adopted, 0 exits recorded, 0 lost/);

    // A timer that does not outlive the test (it would keep this file's process up).
    const stuck = setTimeout(() => logs.kill('SIGKILL'), 60_000);
    const code = await followerDone;
    clearTimeout(stuck);
    assert.equal(code, 0, `logs -f did not end cleanly (${received} bytes)\n${followerErr}`);

    const expected = renderOutput(run.id, BYTES, 0, BYTES);
    const got = Buffer.concat(chunks);
    const onDisk = fs.readFileSync(path.join(runDir(app.paths, run.id), 'stdout.log'));
    assert.equal(onDisk.length, BYTES);
    assert.ok(onDisk.equals(expected), 'stdout.log differs from what the agent wrote');
    assert.equal(got.length, BYTES, 'logs -f printed a different number of bytes');
    assert.ok(got.equals(expected), 'logs -f printed different bytes than the agent wrote');

    // The crash really happened mid-stream, and the run ended after it.
    const end = readLedger(board.ledger).ends.get(run.id)?.[0];
    assert.ok(end, 'the agent did not end on its own');
    assert.ok(atKill > 0 && atKill < BYTES, `logs -f had ${atKill} of ${BYTES} bytes at the kill`);
    assert.ok(end.ts > killedAt, 'the agent ended before the server was killed');

    // The restarted server recorded the exit.
    const final = await getRun(app.store.db, run.id);
    assert.equal(final?.state, 'failed');
    assert.equal(final?.exit_code, EXIT);
    assert.equal(final?.worker_id, server.workerId);
    assert.notEqual(final?.worker_id, firstWorker);
    t.diagnostic(`logs -f had ${atKill} of ${BYTES} bytes when the server was SIGKILLed`);
  } finally {
    // A failed assertion must not leave `logs -f` running: it would keep this test alive.
    follower?.kill('SIGKILL');
    server?.forceKill();
    killRunProcesses(board.home);
    await app.store.close();
  }
});
