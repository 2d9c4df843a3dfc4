import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { type App, openApp } from '../../src/app/context.js';
import { startRun } from '../../src/app/runs.js';
import { boardRedactor } from '../../src/app/secrets.js';
import { addTask, moveTask } from '../../src/app/tasks.js';
import { parseTaskId } from '../../src/domain/ids.js';
import { stepRun } from '../../src/domain/run.js';
import { type Engine, startEngine } from '../../src/engine/engine.js';
import { createMetrics } from '../../src/server/metrics.js';
import { buildServer } from '../../src/server/server.js';
import { listRuns, updateRun } from '../../src/store/runs.js';
import { waitFor } from '../engine/harness.js';
import { type ApiBoard, apiBoard, TEST_PORT } from '../support/api.js';
import { testConfig } from '../support/board.js';
import { tempDir } from '../support/tmp.js';

/** The value of one sample (`name` or `name{labels}`) in Prometheus text; 0 when absent. */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

async function scrape(server: FastifyInstance): Promise<string> {
  const r = await server.inject({ method: 'GET', url: '/metrics' });
  assert.equal(r.statusCode, 200, r.body);
  return r.body;
}

const task = async (app: App, agent: string | null, o: { dependsOn?: number[] } = {}) =>
  parseTaskId((await addTask(app, { title: `t ${agent}`, agent, status: 'backlog', ...o })).id);

describe('/metrics without an engine', () => {
  let a: ApiBoard;
  let b: ApiBoard;
  before(async () => {
    a = await apiBoard({ config: testConfig({ board: { autostart: false } }) });
    b = await apiBoard();
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  it('serves Prometheus text: runs by state and the queue, read from the store', async () => {
    const r = await a.server.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(r.body, /# TYPE agentboard_dispatch_latency_seconds histogram/);
    assert.equal(sample(r.body, 'agentboard_runs{state="queued"}'), 0);
    assert.equal(sample(r.body, 'agentboard_engine_running'), 0);
    assert.equal(sample(r.body, 'agentboard_reconciler_actions_total{action="lost"}'), 0);
    assert.match(r.body, /^agentboard_reconciler_actions_total\{action="lost"\} 0$/m);

    await startRun(a.app, await task(a.app, 'bot'));
    const later = await startRun(a.app, await task(a.app, 'bot'));
    await a.app.store.tx((tx) =>
      updateRun(tx, later.id, { run_at: a.app.clock.now() + 3_600_000 }),
    );
    const blocker = await task(a.app, null);
    await startRun(a.app, await task(a.app, 'helper', { dependsOn: [blocker] }));
    const text = await scrape(a.server);
    assert.equal(sample(text, 'agentboard_runs{state="queued"}'), 3);
    assert.equal(sample(text, 'agentboard_runs{state="running"}'), 0);
    assert.equal(sample(text, 'agentboard_queue_depth'), 3);
    assert.equal(sample(text, 'agentboard_queue_runnable'), 1);
  });

  it('keeps each server’s registry its own, and documents /metrics', async () => {
    const mine = createMetrics({ app: a.app, engine: { current: null } });
    mine.observer.onLeaseRenewed(3);
    mine.observer.onReconciled({ adopted: 1, recorded: 0, lost: 2, released: 4, pending: 5 });
    mine.observer.onDispatched(250, 'bot');
    const text = await mine.registry.metrics();
    assert.equal(sample(text, 'agentboard_lease_renewals_total'), 3);
    assert.equal(sample(text, 'agentboard_reconciler_actions_total{action="adopted"}'), 1);
    assert.equal(sample(text, 'agentboard_reconciler_actions_total{action="lost"}'), 2);
    assert.equal(sample(text, 'agentboard_reconciler_actions_total{action="released"}'), 4);
    assert.equal(sample(text, 'agentboard_dispatch_latency_seconds_count{agent="bot"}'), 1);
    assert.equal(
      sample(text, 'agentboard_dispatch_latency_seconds_bucket{le="0.1",agent="bot"}'),
      0,
    );
    assert.equal(
      sample(text, 'agentboard_dispatch_latency_seconds_bucket{le="0.25",agent="bot"}'),
      1,
    );

    for (const s of [a, b]) {
      const other = await scrape(s.server);
      assert.equal(sample(other, 'agentboard_lease_renewals_total'), 0);
      assert.equal(sample(other, 'agentboard_dispatch_latency_seconds_count{agent="bot"}'), 0);
    }
    const doc = (await b.server.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.ok(doc.paths['/metrics'].get);
  });
});

describe('/metrics with a real engine', () => {
  let app: App;
  let server: FastifyInstance;
  let engine: Engine | undefined;
  const engineRef: { current: Engine | null } = { current: null };
  const log: string[] = [];
  before(async () => {
    const root = tempDir('agentboard-metrics-');
    app = await openApp({
      env: { AGENTBOARD_HOME: path.join(root, '.agentboard') },
      cwd: root,
      config: testConfig({
        board: { autostart: false },
        defaults: { lease: '900ms' },
        agents: { slow: { kind: 'command', command: '/bin/sh', args: ['-c', 'sleep 1'] } },
      }),
    });
    const metrics = createMetrics({ app, engine: engineRef });
    server = buildServer({
      app,
      redact: boardRedactor(app),
      engine: engineRef,
      metrics,
      security: {
        bindHost: '127.0.0.1',
        port: TEST_PORT,
        allowedHosts: [],
        allowedOrigins: [],
        verifyToken: null,
      },
      logError: (l) => log.push(l),
    });
    await server.ready();

    // A run some worker on another host held and stopped renewing: the startup reconciliation marks it lost.
    const orphan = await startRun(
      app,
      parseTaskId((await addTask(app, { title: 'orphan', agent: 'bot', maxAttempts: 1 })).id),
    );
    await app.store.tx(async (tx) => {
      await updateRun(tx, orphan.id, { state: stepRun('queued', { type: 'claim' }) });
      await updateRun(tx, orphan.id, {
        state: stepRun('claimed', { type: 'start' }),
        worker_id: 'elsewhere:1:abc',
        host: 'elsewhere',
        boot_id: 'other-boot',
        lease_token: 1,
        lease_expires_at: app.clock.now() - 1000,
        started_at: app.clock.now() - 5000,
      });
    });
    assert.equal(sample(await scrape(server), 'agentboard_engine_running'), 0);

    engine = await startEngine(app, {
      observer: metrics.observer,
      monitorIntervalMs: 100,
      reconcileIntervalMs: 200,
      log: { info: (m) => log.push(m), warn: (m) => log.push(`warning: ${m}`) },
    });
    engineRef.current = engine;
  });
  after(async () => {
    await engine?.stop();
    await server?.close();
    await app?.store.close();
  });

  const runOf = async (taskId: number) => {
    const [run] = await listRuns(app.store.db, { taskId });
    assert.ok(run);
    return run;
  };
  const untilState = (taskId: number, state: string) =>
    waitFor(`T-${taskId} ${state}`, async () => (await runOf(taskId)).state === state, 10_000);

  it('counts dispatches, live agents, leases and reconciler actions as the engine works', async () => {
    let text = await scrape(server);
    assert.equal(sample(text, 'agentboard_engine_running'), 1);
    assert.equal(
      sample(text, 'agentboard_reconciler_actions_total{action="lost"}'),
      1,
      log.join('\n'),
    );
    assert.equal(sample(text, 'agentboard_runs{state="lost"}'), 1);

    // Waits on an unfinished dependency: queued, not runnable, not dispatched.
    const blocker = await task(app, null);
    const waiting = await task(app, 'bot', { dependsOn: [blocker] });
    await startRun(app, waiting);
    text = await scrape(server);
    assert.equal(sample(text, 'agentboard_queue_depth'), 1);
    assert.equal(sample(text, 'agentboard_queue_runnable'), 0);
    assert.equal(sample(text, 'agentboard_dispatch_latency_seconds_count{agent="bot"}'), 0);

    const quick = await task(app, 'bot');
    await startRun(app, quick);
    await untilState(quick, 'succeeded');
    text = await scrape(server);
    assert.equal(sample(text, 'agentboard_dispatch_latency_seconds_count{agent="bot"}'), 1);
    assert.equal(sample(text, 'agentboard_runs{state="succeeded"}'), 1);
    assert.equal(sample(text, 'agentboard_queue_depth'), 1);

    const slow = await task(app, 'slow');
    await startRun(app, slow);
    await untilState(slow, 'running');
    text = await scrape(server);
    assert.equal(sample(text, 'agentboard_live_agent_processes'), 1);
    assert.equal(sample(text, 'agentboard_runs{state="running"}'), 1);
    assert.equal(sample(text, 'agentboard_dispatch_latency_seconds_count{agent="slow"}'), 1);
    // Leases are renewed every lease/3 = 300 ms while the agent sleeps.
    await waitFor(
      'a lease renewal',
      async () => sample(await scrape(server), 'agentboard_lease_renewals_total') > 0,
    );
    await untilState(slow, 'succeeded');
    await waitFor(
      'the live agent to be let go',
      async () => sample(await scrape(server), 'agentboard_live_agent_processes') === 0,
    );

    // Releasing the dependency dispatches the waiting run; its latency counts from when it was queued.
    await moveTask(app, blocker, 'done');
    await untilState(waiting, 'succeeded');
    text = await scrape(server);
    assert.equal(sample(text, 'agentboard_dispatch_latency_seconds_count{agent="bot"}'), 2);
    assert.ok(
      sample(text, 'agentboard_dispatch_latency_seconds_sum{agent="bot"}') >= 1,
      'the waiting run sat queued while the slow one ran for a second',
    );
    assert.equal(sample(text, 'agentboard_queue_depth'), 0);
    assert.equal(sample(text, 'agentboard_runs{state="succeeded"}'), 3);
  });
});
