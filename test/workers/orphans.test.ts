/**
 * "kill -9 a worker at any instant: no task runs twice at once, and a task
 * whose agent finished is never run again" — on PostgreSQL, across hosts.
 *
 * Three workers stand for three hosts (AGENTBOARD_HOST, each with its own
 * home). 300 tasks are carried out by 1–20 s agents that write a start line,
 * a line every second and an end line to one ledger. A worker is SIGKILLed
 * 10 times while its agents run; it is restarted after a short delay (its
 * watchdog froze the agents: the new worker adopts them), after a long one
 * (the watchdog killed them before their leases ran out: the runs are
 * retried elsewhere), or never.
 *
 * Knobs (env): ORPHAN_TASKS (default 300), ORPHAN_KILLS (default 10).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { addTask } from '../../src/app/tasks.js';
import { readEvents } from '../../src/store/events.js';
import { listRuns, type RunRow } from '../../src/store/runs.js';
import { killRunProcesses, runProcesses, waitFor } from '../engine-crash/helpers.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import type { ServeProcess } from '../support/server.js';
import { createWorkerBoard, type WorkerBoard } from './helpers.js';

const TASKS = Number(process.env.ORPHAN_TASKS ?? 300);
const KILLS = Number(process.env.ORPHAN_KILLS ?? 10);
const HOSTS = ['host-a', 'host-b', 'host-c'];
const CONCURRENCY = 15;

let pg: TestPostgres;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg.close();
});

/** bash: a start line, a line a second while it works, an end line; 1–20 s by task number. */
function ledgerScript(ledger: string): string {
  const line = (sign: string) =>
    `echo "${sign} $EPOCHREALTIME $AGENTBOARD_TASK_ID $AGENTBOARD_RUN_ID" >> "${ledger}"`;
  return [
    line('+'),
    // The shell's own expansion, not a template placeholder.
    `n=$(( \${AGENTBOARD_TASK_ID#T-} * 7 % 20 + 1 ))`,
    `for ((i = 0; i < n; i++)); do sleep 1; ${line('.')}; done`,
    line('-'),
  ].join('; ');
}

interface Span {
  task: string;
  run: string;
  from: number;
  /** The last line it wrote: as late as it was seen alive. */
  to: number;
  finished: boolean;
}

function readSpans(text: string): Span[] {
  const spans = new Map<string, Span>();
  for (const l of text.split('\n')) {
    const [sign, t, task, run] = l.split(' ');
    if (!sign || !task || !run) continue;
    const at = Number(t) * 1000;
    const s = spans.get(run) ?? { task, run, from: at, to: at, finished: false };
    s.to = Math.max(s.to, at);
    if (sign === '-') s.finished = true;
    spans.set(run, s);
  }
  return [...spans.values()];
}

test('SIGKILLed workers on three hosts: no task twice at once, none run again after it finished, no orphans', async () => {
  const url = await pg.createDatabase();
  const first = createWorkerBoard(url, { agents: {} });
  const config = {
    agents: {
      slow: {
        kind: 'command',
        command: '/bin/bash',
        args: ['-c', ledgerScript(first.ledger)],
        max_concurrency: CONCURRENCY * HOSTS.length,
      },
    },
    defaults: {
      max_attempts: 10,
      lease: '15s',
      backoff: { base: '100ms', factor: 2, max: '1s', jitter: 0 },
    },
    board: { max_concurrency: CONCURRENCY * HOSTS.length },
  };
  // One home per host: a host's run directories are its own.
  const boards = new Map<string, WorkerBoard>(
    HOSTS.map((h) => [h, createWorkerBoard(url, config)]),
  );
  const board = boards.get('host-a') as WorkerBoard;
  const app = await board.open();
  const workers = new Map<string, ServeProcess | null>();
  const start = async (host: string) => {
    const w = await (boards.get(host) as WorkerBoard).startWorker(
      ['--concurrency', String(CONCURRENCY)],
      { AGENTBOARD_HOST: host },
    );
    workers.set(host, w);
    return w;
  };
  const watchdogLogs = () =>
    [...boards.values()]
      .map((b) => {
        try {
          return fs.readFileSync(`${b.home}/watchdog.log`, 'utf8');
        } catch {
          return '';
        }
      })
      .join('');
  const recoveries: number[] = [];
  const killTimes = new Map<string, number>();
  const restarts = { quick: 0, slow: 0, never: 0 };
  try {
    for (const h of HOSTS) await start(h);
    for (let i = 0; i < TASKS; i++) await addTask(app, { title: `t${i}`, agent: 'slow' });

    const pending: Promise<void>[] = [];
    for (let k = 0; k < KILLS; k++) {
      await sleep(2000 + Math.random() * 4000);
      // Someone must be left to take the runs over.
      const alive = await waitFor(
        'two hosts up',
        () => {
          const up = HOSTS.filter((h) => workers.get(h));
          return up.length >= 2 && up;
        },
        60_000,
        100,
      );
      const host = alive[Math.floor(Math.random() * alive.length)] as string;
      const victim = workers.get(host) as ServeProcess;
      const held = await listRuns(app.store.db, {
        workerId: victim.workerId ?? '',
        states: ['claimed', 'running'],
      });
      const killedAt = Date.now();
      workers.set(host, null);
      await victim.kill('SIGKILL');
      killTimes.set(victim.workerId ?? '', killedAt);
      // Recovered: none of its runs is still held by the dead worker.
      pending.push(
        waitFor(
          `the runs of ${victim.workerId} to be adopted or retried`,
          async () => {
            const ids = new Set(held.map((r) => r.id));
            const now = await listRuns(app.store.db, { workerId: victim.workerId ?? '' });
            return now.every((r) => !ids.has(r.id) || !['claimed', 'running'].includes(r.state));
          },
          120_000,
          200,
        ).then(() => {
          recoveries.push(Date.now() - killedAt);
        }),
      );
      const r = Math.random();
      // Never restarted: only while the other two hosts are up.
      if (r < 0.2 && alive.length === HOSTS.length) {
        restarts.never++;
        continue;
      }
      const quick = r < 0.6;
      quick ? restarts.quick++ : restarts.slow++;
      pending.push(
        sleep(quick ? 300 + Math.random() * 1500 : 5000 + Math.random() * 6000).then(async () => {
          await start(host);
        }),
      );
    }
    await Promise.all(pending);

    const runs = await waitFor(
      'every task to finish',
      async () => {
        const all = await listRuns(app.store.db, {});
        return all.every((r) => !['queued', 'claimed', 'running'].includes(r.state)) && all;
      },
      600_000,
      500,
    );
    const ledgerText = fs.readFileSync(first.ledger, 'utf8');
    const spans = readSpans(ledgerText);
    const events = await readEvents(app.store.db, { after: 0, limit: 10_000_000 });
    const adopted = events.filter((e) => e.type === 'run.adopted').length;
    const byState = new Map<string, number>();
    for (const r of runs) byState.set(r.state, (byState.get(r.state) ?? 0) + 1);
    recoveries.sort((a, b) => a - b);
    process.stdout.write(
      `# ${KILLS} worker SIGKILLs (${restarts.quick} quick restarts, ${restarts.slow} slow, ${restarts.never} never); ` +
        `${runs.length} runs ${JSON.stringify(Object.fromEntries(byState))}; ${adopted} adoptions; ` +
        `recovery after a kill: median ${recoveries[recoveries.length >> 1]} ms, max ${recoveries.at(-1)} ms\n`,
    );

    // Every task done, by one succeeded run.
    const succeeded = new Map<number, RunRow[]>();
    for (const r of runs.filter((x) => x.state === 'succeeded'))
      succeeded.set(r.task_id, [...(succeeded.get(r.task_id) ?? []), r]);
    assert.equal(succeeded.size, TASKS, 'every task succeeded');
    for (const [task, list] of succeeded) assert.equal(list.length, 1, `T-${task} succeeded once`);

    // No task had two agents at once.
    const runById = new Map(runs.map((r) => [r.id, r]));
    /** What the board and the ledger say of a run, for a failure message. */
    const story = (s: Span) => {
      const r = runById.get(s.run);
      const killed = killTimes.get(r?.worker_id ?? '');
      const rel = (t: number) =>
        killed === undefined ? '' : ` (kill ${(t - killed).toFixed(0)} ms)`;
      return `${s.run} on ${r?.worker_id}: ${r?.state} "${r?.error_summary ?? ''}", ran ${s.from.toFixed(0)}${rel(s.from)} to ${s.to.toFixed(0)}${rel(s.to)}${s.finished ? ', finished' : ''}`;
    };
    const byTask = new Map<string, Span[]>();
    for (const s of spans) byTask.set(s.task, [...(byTask.get(s.task) ?? []), s]);
    for (const [task, list] of byTask) {
      list.sort((a, b) => a.from - b.from);
      for (let i = 1; i < list.length; i++) {
        const prev = list[i - 1] as Span;
        const cur = list[i] as Span;
        assert.ok(
          cur.from >= prev.to,
          `${task}: run ${cur.run} started ${(prev.to - cur.from).toFixed(0)} ms before run ${prev.run} was last seen\n${story(prev)}\n${story(cur)}`,
        );
        // No task that finished ran again.
        assert.ok(
          !prev.finished,
          `${task}: run ${prev.run} finished, yet run ${cur.run} ran again\n${story(prev)}\n${story(cur)}\n${watchdogLogs()}`,
        );
      }
    }
    assert.ok(adopted > 0 || restarts.quick === 0, 'quick restarts adopted their frozen agents');

    // No orphan: every run has ended, so no agent of any host may be left.
    const left = [...boards.values()].flatMap((b) => runProcesses(b.home));
    assert.deepEqual(
      left.map((p) => `${p.pid} ${p.runId} ${p.state} ${p.argv.join(' ')}`),
      [],
      'no orphan left',
    );
  } finally {
    for (const w of workers.values()) w?.forceKill();
    for (const b of boards.values()) killRunProcesses(b.home);
    await app.store.close();
  }
});
