/**
 * `agentboard stop` reaches a run's whole tree and says what really happened:
 * - an agent's `setsid` grandchild is gone after stop, through the run's
 *   cgroup and, with AGENTBOARD_CGROUPS=off, through the marker sweep;
 * - with AGENTBOARD_HOST naming this host otherwise, with the server up and
 *   down, the agent is stopped and the end is recorded, never "running";
 * - from a CLI that names this host differently with no engine holding the
 *   run, it says it could not stop it, exits 1, and the agent is indeed
 *   still running (until stopped under the right name).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'node:test';
import type { App } from '../../src/app/context.js';
import { addTask } from '../../src/app/tasks.js';
import { cgroupRoot } from '../../src/runner/run-tree.js';
import { getRun, type RunRow } from '../../src/store/runs.js';
import {
  createBoard,
  describeProcs,
  isAlive,
  killRunProcesses,
  runProcesses,
  runsOfTask,
  waitFor,
} from '../engine-crash/helpers.js';
import { runCli, type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

const HOST = 'stop-reach-host';
const escDir = tempDir('agentboard-esc-');

/** The agent leaves its group with a grandchild in a new session, then sleeps. */
const AGENT = `setsid sh -c 'echo $$ > "$ESC_DIR/$AGENTBOARD_RUN_ID"; exec sleep 300' & exec sleep 300`;

function newBoard() {
  return createBoard({
    agent: { command: '/bin/sh', args: ['-c', AGENT], env: { ESC_DIR: escDir } },
    defaults: { lease: '30s', stop_grace: '1s' },
  });
}

interface Started {
  taskId: number;
  run: RunRow;
  escapee: number;
}

async function startAgent(app: App, title: string): Promise<Started> {
  const task = await addTask(app, { title, agent: 'bot' });
  const taskId = Number(task.id.slice(2));
  const run = await waitFor('the run to start', async () => {
    const [r] = await runsOfTask(app, taskId);
    return r?.state === 'running' && r.pid !== null ? r : undefined;
  });
  const file = path.join(escDir, run.id);
  const escapee = await waitFor('the setsid grandchild', () => {
    const pid = fs.existsSync(file) ? Number(fs.readFileSync(file, 'utf8')) : 0;
    return pid > 0 && isAlive(pid) ? pid : undefined;
  });
  return { taskId, run, escapee };
}

function cgroupOf(pid: number): string {
  return fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8');
}

async function stopAndCheck(
  app: App,
  home: string,
  s: Started,
  env: Record<string, string>,
): Promise<void> {
  const res = await runCli(home, ['stop', `T-${s.taskId}`], { env });
  assert.equal(res.code, 0, res.stderr + res.stdout);
  assert.match(res.stdout, new RegExp(`${s.run.id} \\(T-${s.taskId}\\): cancelled`));
  assert.doesNotMatch(res.stdout, /running/);
  await waitFor('the grandchild gone', () => !isAlive(s.escapee), 10_000);
  const left = runProcesses(home).filter((p) => p.runId === s.run.id);
  assert.deepEqual(left, [], describeProcs(left));
  assert.equal((await getRun(app.store.db, s.run.id))?.state, 'cancelled');
}

for (const cgroups of ['on', 'off'] as const) {
  test(`stop with AGENTBOARD_HOST set, cgroups ${cgroups}: the setsid grandchild is gone, server up and down`, {
    timeout: 120_000,
  }, async (t) => {
    const board = newBoard();
    const app = await board.open();
    const env = { AGENTBOARD_HOST: HOST, AGENTBOARD_CGROUPS: cgroups };
    let server: ServeProcess | undefined;
    try {
      server = await startServe(board.home, { env, logFile: board.serveLog });

      const up = await startAgent(app, 'server up');
      assert.equal(up.run.host, HOST);
      // The mechanism in use: the grandchild sits in the run's own cgroup, or not.
      const inRunCgroup = new RegExp(`/${up.run.id}\\n`).test(cgroupOf(up.escapee));
      const expectCgroup = cgroups === 'on' && cgroupRoot() !== null;
      assert.equal(inRunCgroup, expectCgroup, cgroupOf(up.escapee));
      t.diagnostic(expectCgroup ? 'through the run cgroup' : 'through the marker sweep');
      await stopAndCheck(app, board.home, up, env);

      const down = await startAgent(app, 'server down');
      await server.kill('SIGKILL');
      server = undefined;
      assert.ok(
        isAlive(down.escapee) && isAlive(down.run.pid as number),
        'the agent outlives the server',
      );
      await stopAndCheck(app, board.home, down, env);
    } finally {
      server?.forceKill();
      killRunProcesses(board.home);
      await app.store.close();
    }
  });
}

test('stop from a CLI that names this host otherwise: the engine stops it, or stop says it could not', {
  timeout: 120_000,
}, async () => {
  const board = newBoard();
  const app = await board.open();
  const serverEnv = { AGENTBOARD_HOST: HOST };
  // The CLI goes by the real hostname: to it, the run is on another host.
  const cliEnv = { AGENTBOARD_HOST: '' };
  let server: ServeProcess | undefined;
  try {
    server = await startServe(board.home, { env: serverEnv, logFile: board.serveLog });

    // An engine holds the run: the stop request reaches it, and it stops the whole tree.
    const held = await startAgent(app, 'held by an engine');
    const res = await runCli(board.home, ['stop', `T-${held.taskId}`], { env: cliEnv });
    assert.equal(res.code, 0, res.stderr);
    assert.match(
      res.stdout,
      /: (cancelled|stopping \(stop requested; worker \S+ on stop-reach-host)/,
    );
    assert.doesNotMatch(res.stdout, /running/);
    await waitFor('the grandchild gone', () => !isAlive(held.escapee), 15_000);
    await waitFor(
      'the run ended',
      async () => (await getRun(app.store.db, held.run.id))?.state === 'cancelled',
    );

    // No engine holds it (stopped gracefully, agents left running): not reachable from here.
    const orphan = await startAgent(app, 'nobody holds it');
    await server.stop();
    server = undefined;
    const refused = await runCli(board.home, ['stop', `T-${orphan.taskId}`], { env: cliEnv });
    assert.equal(refused.code, 1, refused.stdout);
    assert.match(
      refused.stderr,
      new RegExp(
        `${orphan.run.id} \\(T-${orphan.taskId}\\): not stopped: still running on host ${HOST} \\(this is ${os.hostname()}\\)`,
      ),
    );
    assert.match(refused.stderr, new RegExp(`AGENTBOARD_HOST=${HOST}`));
    assert.doesNotMatch(refused.stdout, /running/);
    assert.ok(
      isAlive(orphan.run.pid as number) && isAlive(orphan.escapee),
      'what stop said is true: it still runs',
    );

    const json = await runCli(board.home, ['stop', `T-${orphan.taskId}`, '--json'], {
      env: cliEnv,
    });
    assert.equal(json.code, 1);
    const [view] = JSON.parse(json.stdout) as { outcome: string; state: string }[];
    assert.equal(view?.outcome, 'not_reached');

    // Under the host's own name, the same command stops it.
    await stopAndCheck(app, board.home, orphan, serverEnv);
  } finally {
    server?.forceKill();
    killRunProcesses(board.home);
    await app.store.close();
  }
});
