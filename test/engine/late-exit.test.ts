/**
 * A run another host recorded lost, whose agent had in fact finished with
 * exit 0 (its exit.json on this host says so), is not run again: the next
 * worker starting here cancels the queued retry and sends the card to Review.
 * One whose agent failed keeps its retry.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { type App, openApp } from '../../src/app/context.js';
import { finishRun } from '../../src/app/finish-run.js';
import { addTask } from '../../src/app/tasks.js';
import { runDir } from '../../src/config/home.js';
import { configSchema } from '../../src/config/schema.js';
import { startEngine } from '../../src/engine/engine.js';
import { workerHost } from '../../src/engine/worker-identity.js';
import { bootId } from '../../src/runner/proc.js';
import { claimNext, listRuns, type RunRow } from '../../src/store/runs.js';
import { getTask } from '../../src/store/tasks.js';
import { tempDir } from '../support/tmp.js';

async function lostRunWithExit(app: App, title: string, code: number): Promise<RunRow> {
  const t = await addTask(app, { title, agent: 'bot' });
  const run = await app.store.tx((tx) =>
    claimNext(tx, {
      workerId: 'gone-worker',
      host: workerHost(),
      bootId: bootId(),
      leaseMs: 1000,
      agentLimits: { bot: 8 },
      globalLimit: 8,
    }),
  );
  assert.ok(run && `T-${run.task_id}` === t.id);
  // The agent ended the instant its worker died: its shim wrote the exit here.
  const dir = runDir(app.paths, run.id);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'exit.json'), `{"code":${code}}\n`);
  // Another host saw the lease run out and recorded it lost: a retry is queued.
  const ok = await finishRun(app, run.id, run.lease_token, {
    state: 'lost',
    exitCode: null,
    exitSignal: null,
    reason: 'lost: worker gone-worker stopped renewing its lease',
    retryable: true,
    stderrTail: '',
    complete: false,
    verified: false,
  });
  assert.ok(ok);
  return run;
}

test('a lost run whose agent exited 0 is not run again; one that exited 1 is retried', async () => {
  const root = tempDir('agentboard-late-exit-');
  const app = await openApp({
    env: { AGENTBOARD_HOME: path.join(root, '.agentboard') },
    cwd: root,
    config: configSchema.parse({
      agents: { bot: { kind: 'command', command: '/bin/true' } },
      // The retries fall due long after the test: they must stay queued until the engine looks.
      defaults: { max_attempts: 3, backoff: { base: '1h', factor: 2, max: '2h', jitter: 0 } },
      board: { autostart: true },
    }),
  });
  const log: string[] = [];
  try {
    const finished = await lostRunWithExit(app, 'finished after all', 0);
    const failed = await lostRunWithExit(app, 'failed for real', 1);
    const engine = await startEngine(app, {
      log: { info: (m) => log.push(m), warn: (m) => log.push(m) },
    });
    await engine.stop();

    const runsOf = (id: number) => listRuns(app.store.db, { taskId: id, order: 'asc' });
    const a = await runsOf(finished.task_id);
    assert.deepEqual(
      a.map((r) => [r.attempt, r.state]),
      [
        [1, 'lost'],
        [2, 'cancelled'],
      ],
    );
    const ta = await getTask(app.store.db, finished.task_id);
    assert.equal(ta?.status, 'review');
    assert.match(ta?.status_reason ?? '', /finished \(exit 0\) after its worker died/);
    assert.ok(log.some((l) => l.includes(finished.id) && l.includes('Review')));

    const b = await runsOf(failed.task_id);
    assert.deepEqual(
      b.map((r) => [r.attempt, r.state]),
      [
        [1, 'lost'],
        [2, 'queued'],
      ],
    );
    assert.equal((await getTask(app.store.db, failed.task_id))?.status, 'in_progress');
  } finally {
    await app.store.close();
  }
});
