/**
 * Shared by the engine behaviour tests: a real board in a temp dir with the
 * engine running in-process, plus DB polling helpers. Not a test file itself
 * (node --test runs it as an empty one).
 */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type App, openApp } from '../../src/app/context.js';
import { configSchema } from '../../src/config/schema.js';
import { parseTaskId } from '../../src/domain/ids.js';
import type { EngineLogger } from '../../src/engine/context.js';
import { type Engine, startEngine } from '../../src/engine/engine.js';
import { isSameProcess, listProcessGroup } from '../../src/runner/proc.js';
import { RUN_MARKER_ENV } from '../../src/runner/run-tree.js';
import { killGroupMembers, signalGroup } from '../../src/runner/signals.js';
import { type EventRecord, readEvents } from '../../src/store/events.js';
import { listRuns, type RunRow } from '../../src/store/runs.js';
import type { Clock } from '../../src/store/store.js';
import { getTask, listTasks, type TaskRow } from '../../src/store/tasks.js';
import { listenApi } from '../support/api.js';
import type { ManualClock } from '../support/manual-clock.js';
import { tempDir } from '../support/tmp.js';

/** test/fixtures-engine in the source tree (fixtures are plain .mjs, not compiled). */
export const FIXTURES = fileURLToPath(new URL('../../../test/fixtures-engine/', import.meta.url));

/** A `command` agent running `/bin/sh -c script` (the prompt arrives on its stdin). */
export function shAgent(script: string, extra: Record<string, unknown> = {}) {
  return { kind: 'command', command: '/bin/sh', args: ['-c', script], ...extra };
}

/** A `command` agent running one of the node fixtures. */
export function nodeAgent(fixture: string, args: string[], extra: Record<string, unknown> = {}) {
  return {
    kind: 'command',
    command: process.execPath,
    args: [path.join(FIXTURES, fixture), ...args],
    ...extra,
  };
}

export interface Board {
  app: App;
  engine: Engine;
  /** The temp dir holding everything; AGENTBOARD_HOME is `<root>/.agentboard`. */
  root: string;
  log: string[];
  /** Stops the engine, kills every agent process it left, closes the store. */
  close(): Promise<void>;
}

/**
 * Opens a fresh SQLite board and starts the engine. `raw` is the (pre-parse)
 * config, or a function of the board's root dir returning it.
 */
export async function startBoard(
  raw: Record<string, unknown> | ((root: string) => Record<string, unknown>),
  o: {
    random?: () => number;
    /** The board's clock: a ManualClock makes the engine's timers (monitors, leases, retries) wait for the test. */
    clock?: Clock;
    /** Serve the API on a free loopback port, for agents to call back with their run's token. */
    api?: boolean;
  } = {},
): Promise<Board> {
  const root = tempDir('agentboard-engine-');
  const app = await openApp({
    env: { AGENTBOARD_HOME: path.join(root, '.agentboard') },
    cwd: root,
    config: configSchema.parse(typeof raw === 'function' ? raw(root) : raw),
    ...(o.random ? { random: o.random } : {}),
    ...(o.clock ? { clock: o.clock } : {}),
  });
  const log: string[] = [];
  const quiet: EngineLogger = {
    info: (m) => log.push(m),
    warn: (m) => log.push(`warning: ${m}`),
  };
  const api = o.api ? await listenApi(app, () => false) : null;
  const engine = await startEngine(app, {
    monitorIntervalMs: 100,
    reconcileIntervalMs: 200,
    log: quiet,
    ...(api ? { apiUrl: api.url } : {}),
  });
  let closed = false;
  return {
    app,
    engine,
    root,
    log,
    async close() {
      if (closed) return;
      closed = true;
      await engine.stop();
      await killLeftovers(app);
      await api?.server.close();
      await app.store.close();
    },
  };
}

/** engine.stop() leaves agents running for the next start to adopt: tests must not. */
async function killLeftovers(app: App): Promise<void> {
  const runs = await listRuns(app.store.db, {});
  for (const r of runs) {
    if (r.pgid === null || r.pgid <= 1) continue;
    try {
      if (r.pid !== null && r.proc_start_time !== null && isSameProcess(r.pid, r.proc_start_time))
        signalGroup(r.pgid, 'SIGKILL');
      if (listProcessGroup(r.pgid).length > 0)
        killGroupMembers(r.pgid, { key: RUN_MARKER_ENV, value: r.id });
    } catch {
      // already gone
    }
  }
}

/** Polls `probe` until it returns something other than undefined/false. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 5000,
  intervalMs = 15,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

const ACTIVE = new Set(['queued', 'claimed', 'running']);

/**
 * For a board on a ManualClock: waits (on real time: its agents are real
 * processes) until `probe` holds. Whenever the board is idle but for runs
 * queued for later (a retry's backoff, a loop's delay), moves the clock
 * exactly to the earliest run_at, running the timers due on the way.
 */
export async function driveUntil<T>(
  app: App,
  clock: ManualClock,
  what: string,
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  return waitFor(
    what,
    async () => {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      const open = (await allRuns(app)).filter((r) => ACTIVE.has(r.state));
      if (open.length === 0 || open.some((r) => r.state !== 'queued')) return undefined;
      const due = Math.min(...open.map((r) => r.run_at));
      if (due > clock.now()) await clock.advanceAsync(due - clock.now());
      return undefined;
    },
    timeoutMs,
  );
}

export function taskNo(view: { id: string }): number {
  return parseTaskId(view.id);
}

export async function task(app: App, id: number): Promise<TaskRow> {
  const t = await getTask(app.store.db, id);
  if (!t) throw new Error(`task ${id} not found`);
  return t;
}

export async function allTasks(app: App): Promise<TaskRow[]> {
  return listTasks(app.store.db, {});
}

/** A task's runs, oldest first. */
export function runsOf(app: App, taskId: number): Promise<RunRow[]> {
  return listRuns(app.store.db, { taskId, order: 'asc' });
}

export function allRuns(app: App): Promise<RunRow[]> {
  return listRuns(app.store.db, { order: 'asc' });
}

export async function waitForStatus(
  app: App,
  taskId: number,
  status: string,
  timeoutMs = 5000,
): Promise<TaskRow> {
  return waitFor(
    `task ${taskId} to be ${status}`,
    async () => {
      const t = await task(app, taskId);
      return t.status === status ? t : undefined;
    },
    timeoutMs,
  );
}

/** Waits until the task's latest run is in `state`, and returns it. */
export async function waitForRun(
  app: App,
  taskId: number,
  state: string,
  timeoutMs = 5000,
): Promise<RunRow> {
  return waitFor(
    `a run of task ${taskId} to be ${state}`,
    async () => {
      const r = (await runsOf(app, taskId)).at(-1);
      // A fast agent can be running and finished between two polls: "running" means "started".
      if (state === 'running' && r?.started_at != null) return r;
      return r?.state === state ? r : undefined;
    },
    timeoutMs,
  );
}

export async function eventsOf(app: App, type: string): Promise<EventRecord[]> {
  const all = await readEvents(app.store.db, { after: 0, limit: 100_000 });
  return all.filter((e) => e.type === type);
}

export function runDirOf(app: App, runId: string): string {
  return path.join(app.paths.runs, runId);
}

export function readRunFile(app: App, runId: string, name: string): string {
  return fs.readFileSync(path.join(runDirOf(app, runId), name), 'utf8');
}

/** Whether any process is still in the group (zombies excluded). */
export function groupAlive(pgid: number | null): boolean {
  return pgid !== null && listProcessGroup(pgid).length > 0;
}

/** Max number of intervals open at once; an interval ending at t does not overlap one starting at t. */
export function maxOverlap(intervals: [number, number][]): number {
  const points: [number, number][] = [];
  for (const [s, e] of intervals) points.push([s, 1], [e, -1]);
  points.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let max = 0;
  for (const [, d] of points) {
    cur += d;
    max = Math.max(max, cur);
  }
  return max;
}
