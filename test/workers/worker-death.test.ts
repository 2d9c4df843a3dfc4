/**
 * A worker SIGKILLed mid-run, with default lease settings.
 * 1. Same host: its agents live on; another worker of the host sees the dead
 *    process at its next reconcile pass and adopts them. Each run executes once.
 * 2. Another host (AGENTBOARD_HOST tells them apart), the host dying with its
 *    agents: its runs are recovered once their leases expire (target: within
 *    60 s), retried elsewhere, never overlapping the dead attempt.
 * In both, a completion carrying the dead worker's lease token is rejected.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import type { App } from '../../src/app/context.js';
import { finishRun } from '../../src/app/finish-run.js';
import { addTask } from '../../src/app/tasks.js';
import { listWorkers } from '../../src/app/workers.js';
import { listRuns, type RunRow } from '../../src/store/runs.js';
import { runProcesses, waitFor } from '../engine-crash/helpers.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import type { ServeProcess } from '../support/server.js';
import { createWorkerBoard, type LedgerEntry, ledgerAgent, readLedger } from './helpers.js';

const TARGET_MS = 60_000;
const STALE_SUCCESS = {
  state: 'succeeded' as const,
  exitCode: 0,
  exitSignal: null,
  reason: 'exited 0',
  retryable: false,
  stderrTail: '',
  complete: false,
  verified: false,
};

let pg: TestPostgres;
const procs: ServeProcess[] = [];
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  for (const w of procs) w.forceKill();
  await pg.close();
});

async function addTasks(app: App, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++)
    ids.push(Number((await addTask(app, { title: `t${i}`, agent: 'slow' })).id.slice(2)));
  return ids;
}

async function heldBy(app: App, workerId: string): Promise<RunRow[]> {
  return listRuns(app.store.db, { workerId, states: ['claimed', 'running'] });
}

/** A worker's watchdog (its cmdline names the worker): part of its host. */
function killWatchdogOf(workerId: string): void {
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => a.endsWith('watchdog-process.js')) && argv.includes(workerId))
        process.kill(Number(name), 'SIGKILL');
    } catch {
      // gone, or not ours
    }
  }
}

/** No two executions of one task overlap in time. */
function assertNoOverlap(ledger: LedgerEntry[], taskOfRun: Map<string, number>): void {
  const spans = new Map<number, { from: number; to: number; run: string }[]>();
  const open = new Map<string, number>();
  for (const e of ledger) {
    if (e.sign === '+') open.set(e.run, e.t);
    else {
      const task = taskOfRun.get(e.run) ?? -1;
      const list = spans.get(task) ?? [];
      list.push({ from: open.get(e.run) ?? 0, to: e.t, run: e.run });
      spans.set(task, list);
    }
  }
  for (const [task, list] of spans) {
    list.sort((a, b) => a.from - b.from);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1];
      const cur = list[i];
      assert.ok(
        prev && cur && cur.from >= prev.to,
        `task ${task}: runs ${prev?.run} and ${cur?.run} overlapped`,
      );
    }
  }
}

test("same host: a SIGKILLed worker's live agents are adopted by another worker", async () => {
  const url = await pg.createDatabase();
  const probe = createWorkerBoard(url, { agents: {} });
  const board = createWorkerBoard(url, {
    // Long enough to still be running when the survivor's reconcile pass comes, even under load.
    agents: { slow: ledgerAgent(probe.ledger, 6, 15) },
    board: { max_concurrency: 6 },
  });
  const app = await board.open();
  try {
    const victim = await board.startWorker(['--concurrency', '3']);
    procs.push(victim);
    const tasks = await addTasks(app, 3);
    const held = await waitFor('the victim runs 3 agents', async () => {
      const r = await heldBy(app, victim.workerId ?? '');
      return r.length === 3 && r.every((x) => x.state === 'running') && r;
    });
    const survivor = await board.startWorker(['--concurrency', '3']);
    procs.push(survivor);
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    await waitFor(
      'the survivor to take every run over',
      async () => {
        const runs = await listRuns(app.store.db, {});
        return runs.every((r) => r.worker_id === survivor.workerId);
      },
      TARGET_MS,
    );
    const recoveredMs = Date.now() - killedAt;
    assert.ok(recoveredMs <= TARGET_MS);
    for (const r of held) {
      assert.equal(
        await finishRun(app, r.id, r.lease_token, STALE_SUCCESS),
        false,
        'stale completion rejected',
      );
    }
    const adopted = await app.store.db
      .selectFrom('events')
      .select('run_id')
      .where('type', '=', 'run.adopted')
      .execute();
    assert.equal(adopted.length, 3, 'the live agents were adopted');
    await waitFor(
      'every task done',
      async () => (await listRuns(app.store.db, { states: ['succeeded'] })).length === 3,
      30_000,
    );
    const runs = await listRuns(app.store.db, {});
    assert.equal(runs.length, 3, 'adopted, not re-run');
    const ledger = readLedger(probe.ledger);
    assert.equal(ledger.filter((e) => e.sign === '+').length, 3, 'each agent started once');
    assertNoOverlap(ledger, new Map(runs.map((r) => [r.id, r.task_id])));
    assert.deepEqual(new Set(runs.map((r) => r.task_id)), new Set(tasks));
    process.stderr.write(`[workers] same host: adopted ${recoveredMs} ms after SIGKILL\n`);
    await survivor.stop();
  } finally {
    await app.store.close();
  }
});

test("another host: a dead worker's runs are requeued once their leases expire (default lease)", async () => {
  const url = await pg.createDatabase();
  const probe = createWorkerBoard(url, { agents: {} });
  const board = createWorkerBoard(url, {
    agents: { slow: ledgerAgent(probe.ledger, 6, 2) },
    defaults: { max_attempts: 2, backoff: { base: '100ms', factor: 2, max: '1s', jitter: 0 } },
    board: { max_concurrency: 6 },
  });
  const app = await board.open();
  try {
    const victim = await board.startWorker(['--concurrency', '2'], { AGENTBOARD_HOST: 'host-a' });
    procs.push(victim);
    const tasks = await addTasks(app, 2);
    const held = await waitFor('the victim runs 2 agents', async () => {
      const r = await heldBy(app, victim.workerId ?? '');
      return r.length === 2 && r.every((x) => x.state === 'running') && r;
    });
    const other = await board.startWorker([], { AGENTBOARD_HOST: 'host-b' });
    procs.push(other);
    // host-a goes down: the worker, its watchdog and every agent it started.
    const killedAt = Date.now();
    killWatchdogOf(victim.workerId ?? '');
    await victim.kill('SIGKILL');
    for (const p of runProcesses(board.home))
      if (held.some((r) => r.id === p.runId)) process.kill(p.pid, 'SIGKILL');

    const dead = await waitFor(
      'host-a listed dead',
      async () => {
        const w = (await listWorkers(app)).find((x) => x.id === victim.workerId);
        return w && !w.alive && w;
      },
      TARGET_MS,
    );
    assert.equal(dead.running, 2, 'until recovered, its runs are still counted as its');

    await waitFor(
      'both runs lost and requeued',
      async () => {
        const runs = await listRuns(app.store.db, {});
        const lost = runs.filter((r) => r.state === 'lost');
        return lost.length === 2 && runs.filter((r) => r.attempt === 2).length === 2;
      },
      TARGET_MS + 5000,
      200,
    );
    const recoveredMs = Date.now() - killedAt;
    assert.ok(recoveredMs <= TARGET_MS, `recovered after ${recoveredMs} ms, target ${TARGET_MS}`);
    for (const r of held) {
      assert.equal(
        await finishRun(app, r.id, r.lease_token, STALE_SUCCESS),
        false,
        'stale completion rejected',
      );
    }
    await waitFor(
      'the retries succeed on host-b',
      async () => (await listRuns(app.store.db, { states: ['succeeded'] })).length === 2,
      30_000,
    );
    const runs = await listRuns(app.store.db, {});
    for (const r of runs.filter((x) => x.state === 'succeeded')) assert.equal(r.host, 'host-b');
    assertNoOverlap(readLedger(probe.ledger), new Map(runs.map((r) => [r.id, r.task_id])));
    assert.deepEqual(new Set(runs.map((r) => r.task_id)), new Set(tasks));
    process.stderr.write(
      `[workers] other host: detected and requeued ${recoveredMs} ms after SIGKILL\n`,
    );
    await other.stop();
  } finally {
    await app.store.close();
  }
});
