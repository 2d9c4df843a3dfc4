/**
 * "No attempt is charged for a run that never started."
 *
 * 200 tasks are claimed in a burst while `serve` is stopped with SIGTERM 20
 * times and SIGKILLed 20 times, at random instants (before the engine is
 * ready too), and restarted each time. Every agent appends to a ledger when
 * it starts. On SQLite every agent outlives a server stop and is adopted (or
 * its exit recorded) by the next start, so the truth is simple: each task ran
 * exactly once, as attempt 1, and no run was lost. A claim that never reached
 * its spawn is handed back to the queue, not charged.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openApp } from '../../src/app/context.js';
import { addTask } from '../../src/app/tasks.js';
import { readEvents } from '../../src/store/events.js';
import { listRuns } from '../../src/store/runs.js';
import { ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { killRunProcesses, runProcesses, waitFor } from './helpers.js';

const TASKS = 200;
const STOPS = 20;
const KILLS = 20;

test('restarts and crashes during a burst of claims never charge an attempt', async () => {
  const root = tempDir('agentboard-attempts-');
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  const ledger = path.join(root, 'ledger.log');
  // The agent's first instruction writes the ledger; a run that spawned always appears there.
  const script = `echo "start $AGENTBOARD_RUN_ID $AGENTBOARD_TASK_ID" >>"$LEDGER"; sleep 0.2; exit 0`;
  const config = {
    agents: {
      bot: {
        kind: 'command',
        command: '/bin/sh',
        args: ['-c', script],
        max_concurrency: 8,
        env: { LEDGER: ledger },
      },
    },
    defaults: { agent: 'bot', max_attempts: 3, lease: '3s', stop_grace: '1s' },
    board: { autostart: true, max_concurrency: 8, on_success: 'done' },
  };
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config));
  const app = await openApp({ env: { AGENTBOARD_HOME: home }, cwd: root });
  let server: ServeProcess | undefined;
  try {
    for (let i = 0; i < TASKS; i++) await addTask(app, { title: `burst ${i}`, agent: 'bot' });

    const plan = [...Array(STOPS).fill('SIGTERM'), ...Array(KILLS).fill('SIGKILL')] as const;
    const order = [...plan].sort(() => Math.random() - 0.5);
    let beforeReady = 0;
    for (const signal of order) {
      // Not waiting for ready: the kill may land at any instant of the start.
      server = new ServeProcess(home, { logFile: path.join(root, 'serve.log') });
      // Random instants: a quarter during startup and reconciliation, the
      // rest just after the engine is ready, in the middle of claiming.
      if (Math.random() < 0.25) await sleep(Math.floor(Math.random() * 400));
      else {
        await server.waitReady(30_000);
        await sleep(Math.floor(Math.random() * 60));
      }
      if (!server.ready) beforeReady++;
      await server.kill(signal, 30_000);
      server = undefined;
    }
    server = await startServe(home, { logFile: path.join(root, 'serve.log') });
    const done = await waitFor(
      'every task to finish',
      async () => {
        const runs = await listRuns(app.store.db, {});
        const active = runs.filter((r) => ['queued', 'claimed', 'running'].includes(r.state));
        return active.length === 0 && runs.length >= TASKS ? runs : undefined;
      },
      180_000,
      250,
    );

    const starts = new Map<string, number>();
    for (const line of fs.readFileSync(ledger, 'utf8').split('\n')) {
      const [word, runId] = line.split(' ');
      if (word === 'start' && runId) starts.set(runId, (starts.get(runId) ?? 0) + 1);
    }
    const released = (await readEvents(app.store.db, { after: 0, limit: 1_000_000 })).filter(
      (e) => e.type === 'run.released',
    ).length;
    const byState = new Map<string, number>();
    for (const r of done) byState.set(r.state, (byState.get(r.state) ?? 0) + 1);
    process.stdout.write(
      `# ${order.length} stops (${beforeReady} before ready): ${done.length} runs ${JSON.stringify(Object.fromEntries(byState))}; ${released} claims handed back uncharged; ${starts.size} agents started\n`,
    );

    const charged = done.filter((r) => r.attempt > 1);
    assert.deepEqual(
      charged.map((r) => `${r.id} T-${r.task_id} attempt ${r.attempt}`),
      [],
      'no task needed a second attempt: every earlier attempt would have been charged for nothing',
    );
    assert.equal(done.length, TASKS, 'one run per task');
    assert.deepEqual(
      done
        .filter((r) => r.state !== 'succeeded')
        .map((r) => `${r.id}: ${r.state} ${r.error_summary}`),
      [],
    );
    for (const r of done) assert.equal(starts.get(r.id), 1, `run ${r.id} started exactly once`);
    assert.equal(starts.size, TASKS, 'no agent started for a run the board does not have');
    assert.ok(released > 0, 'the crash path between claim and spawn was exercised');
  } finally {
    await server?.kill('SIGKILL').catch(() => {});
    killRunProcesses(home);
    assert.deepEqual(runProcesses(home), []);
    await app.store.close();
  }
});
