/**
 * The dispatcher's claims: one write transaction per wake-up when the queue
 * holds fewer runs than the worker has room for (a second, always-empty
 * claim would run beside the launches it just started), and no run left
 * behind when a commit lands while a claim is in flight.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { type App, openApp } from '../../src/app/context.js';
import { enqueueRun, taskPrompt } from '../../src/app/queue.js';
import { addTask } from '../../src/app/tasks.js';
import { configSchema } from '../../src/config/schema.js';
import { type EngineContext, noopObserver } from '../../src/engine/context.js';
import { Dispatcher } from '../../src/engine/dispatcher.js';
import { createWorkerIdentity } from '../../src/engine/worker-identity.js';
import { claimableAgents } from '../../src/engine/worker-labels.js';
import { Spawner } from '../../src/runner/spawner.js';
import { getTask } from '../../src/store/tasks.js';
import { tempDir } from '../support/tmp.js';
import { allRuns, waitFor } from './harness.js';

interface Rig {
  app: App;
  ctx: EngineContext;
  dispatcher: Dispatcher;
  /** Claim transactions opened so far (told apart by the dispatcher's frame on the stack). */
  claims(): number;
  close(): Promise<void>;
}

/** A board and a dispatcher alone: nothing else wakes it or opens transactions. */
async function rig(maxConcurrency: number): Promise<Rig> {
  const root = tempDir('agentboard-claims-');
  const app = await openApp({
    env: { AGENTBOARD_HOME: path.join(root, '.agentboard') },
    cwd: root,
    config: configSchema.parse({
      agents: {
        // Holds its slot until the test ends: capacity is freed by nothing but the test.
        bot: { kind: 'command', command: 'sleep', args: ['30'], max_concurrency: maxConcurrency },
      },
      board: { autostart: false },
      defaults: { max_attempts: 1 },
    }),
  });
  let claims = 0;
  const tx = app.store.tx.bind(app.store);
  app.store.tx = ((fn) => {
    if (new Error().stack?.includes('claimSome')) claims++;
    return tx(fn);
  }) as typeof app.store.tx;
  const ctx: EngineContext = {
    app,
    worker: createWorkerIdentity(),
    live: new Map(),
    launching: new Map(),
    log: { info: () => {}, warn: () => {} },
    stopping: false,
    settling: new Set(),
    spawner: new Spawner(),
    wake: () => dispatcher.wake(),
    observer: noopObserver,
    agentLimits: claimableAgents(app.config),
    concurrency: null,
    shipOutput: false,
    watchdog: null,
    apiUrl: null,
  };
  const dispatcher = new Dispatcher(ctx);
  return {
    app,
    ctx,
    dispatcher,
    claims: () => claims,
    async close() {
      ctx.stopping = true;
      dispatcher.stop();
      for (const r of await allRuns(app)) if (r.pgid !== null) killGroup(r.pgid);
      for (const live of ctx.live.values()) live.close();
      ctx.spawner.close();
      await app.store.close();
    },
  };
}

function killGroup(pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    // gone already
  }
}

async function enqueue(app: App, taskIds: number[]): Promise<void> {
  await app.store.tx(async (tx) => {
    for (const id of taskIds) {
      const task = await getTask(tx.db, id);
      assert.ok(task);
      await enqueueRun(app, tx, task, {
        agent: 'bot',
        trigger: 'manual',
        prompt: taskPrompt(task),
      });
    }
  });
}

async function newTasks(app: App, n: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < n; i++)
    ids.push(Number((await addTask(app, { title: `t${i}`, agent: 'bot' })).id.slice(2)));
  return ids;
}

const started = async (app: App, n: number) =>
  (await allRuns(app)).filter((r) => r.started_at !== null).length >= n;

test('a wake-up that finds fewer runs than there is room for claims once', async (t) => {
  const r = await rig(10);
  t.after(() => r.close());
  await enqueue(r.app, await newTasks(r.app, 3));
  r.dispatcher.wake();
  await waitFor('3 runs started', () => started(r.app, 3), 20_000);
  assert.equal(r.claims(), 1, 'one claim took all 3 runs; a second would have found none');
  assert.equal(r.ctx.live.size, 3);
});

test('a run queued while a claim is in flight is claimed by the next pass', async (t) => {
  const r = await rig(10);
  t.after(() => r.close());
  const [first, ...rest] = await newTasks(r.app, 6);
  assert.ok(first !== undefined);
  await enqueue(r.app, [first]);
  // Every commit wakes the dispatcher, as the engine's listener does. The
  // runs below commit one by one while the claims they cause are running.
  r.app.store.changes.on('events', () => r.dispatcher.wake());
  r.dispatcher.wake();
  for (const id of rest) await enqueue(r.app, [id]);
  await waitFor('6 runs started', () => started(r.app, 6), 20_000);
  const runs = await allRuns(r.app);
  assert.equal(runs.length, 6, 'one run per task, none claimed twice');
  assert.ok(runs.every((run) => run.attempt === 1));
});

test('at its limit the worker claims no more, and one wake-up fills every free slot', async (t) => {
  const r = await rig(2);
  t.after(() => r.close());
  await enqueue(r.app, await newTasks(r.app, 5));
  r.dispatcher.wake();
  await waitFor('2 runs started', () => started(r.app, 2), 20_000);
  // A claim that got all it asked for looks again; at the limit, that costs no transaction.
  assert.equal(r.claims(), 1);
  // The pass this wake-up starts, awaited to its end.
  await r.dispatcher.wake();
  assert.equal(r.claims(), 1, 'at capacity: no claim transaction');
  const states = (await allRuns(r.app)).map((run) => run.state);
  assert.equal(states.filter((s) => s === 'queued').length, 3, 'three still wait');
  assert.equal(states.length, 5);
});
