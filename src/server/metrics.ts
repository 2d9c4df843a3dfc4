import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { approvalCounts } from '../app/approvals.js';
import type { App } from '../app/context.js';
import { queueNow, runCountsByState } from '../app/read-board.js';
import { APPROVAL_STATES, RUN_STATES } from '../contract/vocabulary.js';
import type { EngineObserver } from '../engine/context.js';
import type { Engine } from '../engine/engine.js';

/**
 * This server's Prometheus metrics. Board-wide numbers (runs by state, the
 * queue) are read from the DB at scrape time, so they hold whichever process
 * did the work; dispatch latency, leases and reconciliations are what this
 * process's engine observed. Each server has its own registry, never the
 * global one, so several servers in one process do not clash.
 */
export interface ServerMetrics {
  registry: Registry;
  /** Pass to `startEngine(app, { observer })`. */
  observer: EngineObserver;
}

/** Spawns are tens of ms; a backlog waiting for capacity is minutes. */
const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800];
const RECONCILER_ACTIONS = ['adopted', 'recorded', 'lost', 'released'] as const;

export function createMetrics(o: {
  app: App;
  engine: { current: Engine | null };
  /** Node process metrics (CPU, memory, event loop): for a real server, not for tests. */
  processMetrics?: boolean;
}): ServerMetrics {
  const { app, engine } = o;
  const registry = new Registry();
  const registers = [registry];
  if (o.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'agentboard_' });

  new Gauge({
    name: 'agentboard_runs',
    help: 'Runs in the store, by state',
    labelNames: ['state'],
    registers,
    async collect() {
      const counts = await runCountsByState(app);
      for (const s of RUN_STATES) this.set({ state: s }, counts.get(s) ?? 0);
    },
  });
  const queue = async () => queueNow(app);
  new Gauge({
    name: 'agentboard_queue_depth',
    help: 'Queued runs, due or not',
    registers,
    async collect() {
      this.set((await queue()).queued);
    },
  });
  new Gauge({
    name: 'agentboard_queue_runnable',
    help: 'Queued runs that are due and wait on no dependency: only capacity holds them',
    registers,
    async collect() {
      this.set((await queue()).runnable);
    },
  });
  // Read from the database, not counted here: every server of the board says the same.
  new Gauge({
    name: 'agentboard_approvals_pending',
    help: 'Tool uses waiting for a person to allow or deny them',
    registers,
    async collect() {
      this.set((await approvalCounts(app)).get('pending') ?? 0);
    },
  });
  // A gauge: rows go when tasks are deleted or runs pruned, so this can fall.
  new Gauge({
    name: 'agentboard_approvals_decided',
    help: 'Decided approval requests still on record, by state: allowed, denied, expired (approval_timeout), cancelled (the run ended)',
    labelNames: ['state'],
    registers,
    async collect() {
      const counts = await approvalCounts(app);
      this.reset();
      for (const s of APPROVAL_STATES)
        if (s !== 'pending') this.set({ state: s }, counts.get(s) ?? 0);
    },
  });
  new Gauge({
    name: 'agentboard_engine_running',
    help: '1 when this process runs an engine (dispatching and supervising), else 0',
    registers,
    collect() {
      this.set(engine.current ? 1 : 0);
    },
  });
  new Gauge({
    name: 'agentboard_live_agent_processes',
    help: 'Agent processes this process’s engine supervises',
    registers,
    collect() {
      this.set(engine.current?.liveRuns() ?? 0);
    },
  });
  const dispatch = new Histogram({
    name: 'agentboard_dispatch_latency_seconds',
    help: 'From a run becoming runnable (max of created_at, run_at) to its agent being spawned, by agent',
    labelNames: ['agent'],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const leases = new Counter({
    name: 'agentboard_lease_renewals_total',
    help: 'Run leases renewed by this process’s engine',
    registers,
  });
  const reconciled = new Counter({
    name: 'agentboard_reconciler_actions_total',
    help: 'Runs the reconciler re-adopted, whose exit it recorded, or marked lost',
    labelNames: ['action'],
    registers,
  });
  for (const action of RECONCILER_ACTIONS) reconciled.inc({ action }, 0);

  return {
    registry,
    observer: {
      onDispatched: (latencyMs, agent) =>
        dispatch.observe({ agent }, Math.max(0, latencyMs) / 1000),
      onLeaseRenewed: (n) => leases.inc(n),
      onReconciled: (s) => {
        for (const action of RECONCILER_ACTIONS)
          if (s[action] > 0) reconciled.inc({ action }, s[action]);
      },
    },
  };
}
