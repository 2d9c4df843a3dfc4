/**
 * "SIGKILL the server at any instant and nothing is lost or run twice."
 *
 * Hundreds of tasks are carried out by a scripted agent with random
 * durations, exit codes (some agents SIGKILL themselves), output sizes,
 * hangs, SIGTERM-ignoring and grandchildren, while `agentboard serve` is
 * SIGKILLed at random moments (during startup and reconciliation too) and
 * restarted. Afterwards the DB, the run directories, the agents' own ledger
 * and /proc must agree.
 *
 * Knobs (env): CRASH_TASKS (default 320), CRASH_KILLS (default 24), CRASH_SEED.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import path from 'node:path';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { App } from '../../src/app/context.js';
import { runDir } from '../../src/config/home.js';
import { getRun, listRuns, type RunRow } from '../../src/store/runs.js';
import { listTasks } from '../../src/store/tasks.js';
import {
  type AgentPlan,
  type AgentStep,
  hashFile,
  MIN_OUTPUT,
  readLedger,
  tailOf,
  trailerOf,
} from '../fixtures/crash-agent-lib.js';
import { ServeProcess, startServe } from '../support/server.js';
import {
  addAgentTask,
  createBoard,
  describeProcs,
  killRunProcesses,
  runProcesses,
  waitFor,
} from './helpers.js';

const TASKS = Number(process.env.CRASH_TASKS ?? 320);
const MIN_KILLS = Number(process.env.CRASH_KILLS ?? 24);
const SEED = Number(process.env.CRASH_SEED ?? Math.floor(Math.random() * 2 ** 31));
const MAX_ATTEMPTS = 3;
const TERMINAL = new Set(['succeeded', 'failed', 'timed_out', 'cancelled', 'lost']);

/** mulberry32: the plans and the kill schedule replay from CRASH_SEED. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomStep(r: () => number): AgentStep {
  const ms = Math.floor(r() * 2000);
  const e = r();
  const exit = e < 0.12 ? 1 : e < 0.2 ? 3 : e < 0.3 ? 137 : 0;
  const b = r();
  const bytes =
    b < 0.15
      ? 0
      : b < 0.6
        ? MIN_OUTPUT + Math.floor(r() * 65536)
        : b < 0.9
          ? 65536 + Math.floor(r() * 458752)
          : 524288 + Math.floor(r() * 1572864);
  const h = r();
  const hang = h < 0.03 ? ('silent' as const) : h < 0.05 ? ('chatty' as const) : undefined;
  const step: AgentStep = { ms, exit, bytes };
  if (hang) step.hang = hang;
  if (r() < (hang ? 0.5 : 0.1)) step.ignoreTerm = true;
  const kids: AgentStep['kids'] = [];
  // Grandchildren that outlive the agent briefly...
  if (r() < 0.2) kids.push({ ms: ms + 200 + Math.floor(r() * 1300), ignoreTerm: r() < 0.3 });
  // ... and a few that would live for 10 minutes if the engine did not clean up.
  if (r() < 0.04) kids.push({ ms: 600_000, ignoreTerm: r() < 0.5 });
  if (kids.length > 0) step.kids = kids;
  return step;
}

function randomPlan(r: () => number): AgentPlan {
  const n = 1 + Math.floor(r() * 3);
  return { steps: Array.from({ length: n }, () => randomStep(r)) };
}

interface KillLog {
  kills: number;
  beforeReady: number;
  startups: number;
  recoveredAtStartup: { adopted: number; recorded: number; lost: number };
}

function countRecovered(s: ServeProcess, log: KillLog): void {
  const m = /recovered: (\d+) re-adopted, (\d+) exits recorded, (\d+) lost/.exec(s.stdout);
  if (!m) return;
  log.recoveredAtStartup.adopted += Number(m[1]);
  log.recoveredAtStartup.recorded += Number(m[2]);
  log.recoveredAtStartup.lost += Number(m[3]);
}

test(`chaos: ${TASKS} tasks, server SIGKILLed at least ${MIN_KILLS} times`, {
  timeout: 360_000,
}, async (t) => {
  const t0 = Date.now();
  const r = rng(SEED);
  t.diagnostic(`seed ${SEED} (rerun with CRASH_SEED=${SEED})`);
  const board = createBoard({
    agent: { timeout: '7s', idle_timeout: '4s' },
    defaults: { max_attempts: MAX_ATTEMPTS, queue_timeout: '1h' },
  });
  const app = await board.open();
  let server: ServeProcess | undefined;
  const log: KillLog = {
    kills: 0,
    beforeReady: 0,
    startups: 0,
    recoveredAtStartup: { adopted: 0, recorded: 0, lost: 0 },
  };
  try {
    // Tasks arrive in batches while the server is being killed.
    const plans = Array.from({ length: TASKS }, () => randomPlan(r));
    let added = 0;
    const adder = (async () => {
      while (added < TASKS) {
        const batch = Math.min(16, TASKS - added);
        for (let i = 0; i < batch; i++) {
          await addAgentTask(app, `chaos ${added + 1}`, plans[added] as AgentPlan);
          added++;
        }
        await sleep(1500);
      }
    })();

    // The killer: SIGKILL at random instants, sometimes before the engine is even ready.
    let adding = true;
    void adder.finally(() => {
      adding = false;
    });
    while (log.kills < MIN_KILLS || adding) {
      const s = new ServeProcess(board.home, { logFile: board.serveLog });
      log.startups++;
      if (r() < 0.25) {
        // Somewhere in startup: opening the DB, migrating, reconciling, first dispatch.
        await sleep(Math.floor(r() * 2000));
      } else {
        await s.waitReady();
        await sleep(Math.floor(r() * 4000));
      }
      if (!s.alive) throw new Error(`serve died on its own\n${s.output()}`);
      if (!s.ready) log.beforeReady++;
      await s.kill('SIGKILL');
      countRecovered(s, log);
      log.kills++;
      // Sometimes stay down a while: agents finish with nobody watching.
      if (r() < 0.5) await sleep(Math.floor(r() * 1500));
    }
    await adder;
    const chaosEnd = Date.now();

    // Calm: one server until every task has settled.
    server = await startServe(board.home, { logFile: board.serveLog });
    log.startups++;
    countRecovered(server, log);
    await waitFor(
      'every task to settle',
      async () => {
        const active = await listRuns(app.store.db, { states: ['queued', 'claimed', 'running'] });
        return active.length === 0;
      },
      200_000,
      250,
    );
    const settled = Date.now();
    assert.ok(server.alive, `the final server died\n${server.output()}`);
    await server.stop();
    assert.equal(server.exitStatus?.code, 0, server.output());
    server = undefined;

    // Grandchildren meant to outlive their agent do so by 1.5 s at most.
    await sleep(2000);
    const orphans = runProcesses(board.home);

    const report = await verify(app, board.ledger, orphans);
    const summary = [
      `${TASKS} tasks, ${report.runs} runs (${report.retries} retries, ${report.started} agents started)`,
      `${log.kills} SIGKILLs (${log.beforeReady} before the engine was ready), ${log.startups} starts`,
      `adopted ${report.adopted} (events; ${log.recoveredAtStartup.adopted} at startup), exits recorded while down ${log.recoveredAtStartup.recorded}, lost ${report.lost} (${log.recoveredAtStartup.lost} at startup)`,
      `outcomes ${JSON.stringify(report.states)}; cards ${JSON.stringify(report.columns)}`,
      `stopped by monitors ${report.stopped}; exits racing a stop ${report.racedStops}; output checked ${(report.outputBytes / 1048576).toFixed(0)} MB, transcripts checked ${report.transcripts}`,
      `chaos ${((chaosEnd - t0) / 1000).toFixed(0)}s, drain ${((settled - chaosEnd) / 1000).toFixed(0)}s, total ${((Date.now() - t0) / 1000).toFixed(0)}s`,
    ];
    for (const line of summary) t.diagnostic(line);
    assert.deepEqual(report.violations, [], report.violations.join('\n'));
    assert.ok(log.kills >= MIN_KILLS);
    // The crashes did hit live runs: some were re-adopted, some ended while nobody watched.
    assert.ok(report.adopted > 0, 'no run was ever re-adopted');
    assert.ok(log.recoveredAtStartup.recorded > 0, 'no exit was ever recorded after a crash');
  } finally {
    server?.forceKill();
    killRunProcesses(board.home);
    await app.store.close();
  }
});

interface Report {
  violations: string[];
  runs: number;
  retries: number;
  started: number;
  adopted: number;
  lost: number;
  stopped: number;
  racedStops: number;
  outputBytes: number;
  transcripts: number;
  states: Record<string, number>;
  columns: Record<string, number>;
}

async function verify(
  app: App,
  ledgerFile: string,
  orphans: ReturnType<typeof runProcesses>,
): Promise<Report> {
  const v: string[] = [];
  const ledger = readLedger(ledgerFile);
  const runs = await listRuns(app.store.db, { order: 'asc' });
  const tasks = await listTasks(app.store.db, {});
  const byId = new Map(runs.map((run) => [run.id, run]));
  const events = await app.store.db
    .selectFrom('events')
    .select(['type', 'run_id'])
    .where('type', 'in', ['run.finished', 'run.adopted'])
    .execute();
  const finished = new Map<string, number>();
  let adopted = 0;
  for (const e of events) {
    if (e.type === 'run.adopted') adopted++;
    else if (e.run_id) finished.set(e.run_id, (finished.get(e.run_id) ?? 0) + 1);
  }
  const states: Record<string, number> = {};
  const columns: Record<string, number> = {};
  let stopped = 0;
  let racedStops = 0;
  let outputBytes = 0;
  let transcripts = 0;

  // Every task has settled, through an unbroken chain of attempts.
  assert.equal(tasks.length, TASKS);
  const runsByTask = new Map<number, RunRow[]>();
  for (const run of runs) {
    const list = runsByTask.get(run.task_id) ?? [];
    list.push(run);
    runsByTask.set(run.task_id, list);
  }
  for (const task of tasks) {
    columns[task.status] = (columns[task.status] ?? 0) + 1;
    const id = `T-${task.id}`;
    const list = (runsByTask.get(task.id) ?? []).sort((a, b) => a.attempt - b.attempt);
    if (list.length === 0) {
      v.push(`${id}: has no run at all`);
      continue;
    }
    list.forEach((run, i) => {
      if (run.attempt !== i + 1)
        v.push(`${id}: attempts ${list.map((x) => x.attempt).join(',')} (duplicated or missing)`);
      if (i > 0 && run.previous_run_id !== list[i - 1]?.id)
        v.push(`${id}: run ${run.id} does not follow ${list[i - 1]?.id}`);
      if (!TERMINAL.has(run.state)) v.push(`${id}: run ${run.id} is still ${run.state}`);
      if (i < list.length - 1 && run.state === 'succeeded')
        v.push(`${id}: run ${run.id} succeeded yet was retried`);
    });
    const last = list[list.length - 1] as RunRow;
    if (last.state === 'succeeded') {
      if (task.status !== 'review')
        v.push(`${id}: last run succeeded but the card is ${task.status}`);
    } else {
      if (task.status !== 'blocked')
        v.push(`${id}: last run ${last.state} but the card is ${task.status}`);
      if (last.attempt !== MAX_ATTEMPTS)
        v.push(
          `${id}: blocked after ${last.attempt} of ${MAX_ATTEMPTS} attempts (${last.error_summary})`,
        );
    }
    // No attempt starts before the previous one has ended (ledger times).
    for (let i = 1; i < list.length; i++) {
      const prev = ledger.starts.get((list[i - 1] as RunRow).id)?.[0];
      const prevEnd = ledger.ends.get((list[i - 1] as RunRow).id)?.[0];
      const cur = ledger.starts.get((list[i] as RunRow).id)?.[0];
      if (prev && prevEnd && cur && cur.ts < prevEnd.ts)
        v.push(`${id}: attempt ${i + 1} started before attempt ${i} ended`);
    }
  }

  for (const o of ledger.overlaps)
    v.push(
      `run ${o.runId} started while ${o.other} (pid ${o.otherPid}) of the same task was alive`,
    );

  for (const [runId, starts] of ledger.starts) {
    if (!byId.has(runId)) v.push(`ledger names run ${runId}, which is not in the DB`);
    if (starts.length > 1)
      v.push(
        `run ${runId} started ${starts.length} times (pids ${starts.map((s) => s.pid).join(', ')})`,
      );
  }
  for (const [runId, ends] of ledger.ends) {
    const start = ledger.starts.get(runId)?.[0];
    if (ends.length > 1) v.push(`run ${runId} ended ${ends.length} times`);
    for (const e of ends)
      if (!start || e.pid !== start.pid) v.push(`run ${runId} ended in pid ${e.pid}, not its own`);
  }

  for (const run of runs) {
    states[run.state] = (states[run.state] ?? 0) + 1;
    const n = finished.get(run.id) ?? 0;
    if (n !== 1) v.push(`run ${run.id}: ${n} run.finished events`);
    const start = ledger.starts.get(run.id)?.[0];
    const end = ledger.ends.get(run.id)?.[0];
    if (!start) {
      // A claim the server died holding before the spawn goes back to the queue, uncharged.
      v.push(`run ${run.id} ended ${run.state}, but its agent never started`);
      continue;
    }
    if (run.state === 'lost')
      v.push(`run ${run.id}: its agent ran (pid ${start.pid}) but the run is marked lost`);
    if (run.pid !== start.ppid)
      v.push(
        `run ${run.id}: recorded pid ${run.pid}, but the agent's supervisor was ${start.ppid}`,
      );
    if (run.stop_action !== null) stopped++;
    if (!end) {
      // An agent that did not end on its own was stopped by a monitor.
      if (run.stop_action !== 'timeout' && run.stop_action !== 'idle')
        v.push(`run ${run.id} (${run.state}) was killed, yet no monitor asked for it`);
      continue;
    }
    if (run.exit_code !== end.code || run.state !== (end.code === 0 ? 'succeeded' : 'failed')) {
      if (run.stop_action !== null) racedStops++;
      else
        v.push(
          `run ${run.id}: agent exited ${end.code}, recorded ${run.state} exit ${run.exit_code} (${run.error_summary})`,
        );
    }
    // The output of a run that ended on its own is complete.
    const out = path.join(runDir(app.paths, run.id), 'stdout.log');
    let got = { sha256: '', bytes: -1 };
    try {
      got = hashFile(out);
    } catch {
      // missing: reported below
    }
    outputBytes += Math.max(0, got.bytes);
    if (got.bytes !== end.bytes || got.sha256 !== end.sha256)
      v.push(`run ${run.id}: stdout.log has ${got.bytes} bytes, the agent wrote ${end.bytes}`);
    else if (end.bytes > 0 && !tailOf(out, 64).endsWith(trailerOf(run.id, end.bytes)))
      v.push(`run ${run.id}: stdout.log does not end with its trailer`);

    // Its stored transcript (one message per line, parsing resumed across crashes)
    // is the whole output, nothing lost and nothing stored twice.
    const problem = await checkTranscript(app, run, end.bytes, end.sha256);
    if (problem) v.push(`run ${run.id}: transcript ${problem}`);
    else transcripts++;
  }

  if (orphans.length > 0) v.push(`processes left behind:\n${describeProcs(orphans)}`);
  return {
    violations: v,
    runs: runs.length,
    retries: runs.filter((run) => run.attempt > 1).length,
    started: ledger.starts.size,
    adopted,
    lost: states.lost ?? 0,
    stopped,
    racedStops,
    outputBytes,
    transcripts,
    states,
    columns,
  };
}

/**
 * The command adapter stores each non-empty stdout line as a message (runs of
 * them coalesced with newlines), committing the parse offset with them. So
 * the messages, joined by newlines, must be exactly the stdout the agent wrote.
 */
async function checkTranscript(
  app: App,
  run: RunRow,
  bytes: number,
  sha256: string,
): Promise<string | null> {
  const rows = await app.store.db
    .selectFrom('run_events')
    .select(['seq', 'type', 'data'])
    .where('run_id', '=', run.id)
    .orderBy('seq')
    .execute();
  const fresh = await getRun(app.store.db, run.id);
  if (Number(fresh?.parsed_offset) !== bytes)
    return `parsed to offset ${fresh?.parsed_offset} of ${bytes}`;
  if (rows.length !== Number(fresh?.event_count))
    return `has ${rows.length} events, event_count says ${fresh?.event_count}`;
  const h = crypto.createHash('sha256');
  for (const [i, row] of rows.entries()) {
    if (Number(row.seq) !== i + 1) return `seq ${row.seq} at position ${i + 1}`;
    if (row.type !== 'message') return `has a ${row.type} event: ${row.data.slice(0, 200)}`;
    h.update(`${(JSON.parse(row.data) as { text: string }).text}\n`);
  }
  if (bytes === 0) return rows.length === 0 ? null : `has ${rows.length} events for no output`;
  return h.digest('hex') === sha256 ? null : 'differs from the output';
}
