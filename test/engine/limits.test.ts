import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { startRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import { ConflictError } from '../../src/domain/errors.js';
import {
  allRuns,
  allTasks,
  maxOverlap,
  nodeAgent,
  runsOf,
  shAgent,
  startBoard,
  taskNo,
  waitFor,
  waitForRun,
  waitForStatus,
} from './harness.js';

interface LedgerEntry {
  kind: 'start' | 'end';
  agent: string;
  task: string;
  at: number;
}

function readLedger(file: string): LedgerEntry[] {
  return fs
    .readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((line) => {
      const [kind, agent, task, at] = line.split(' ');
      return {
        kind: kind as 'start' | 'end',
        agent: agent ?? '',
        task: task ?? '',
        at: Number(at),
      };
    });
}

/** Per task: [start, end] from the agent's own ledger lines. */
function intervals(entries: LedgerEntry[], agent?: string): [number, number][] {
  const byTask = new Map<string, { s?: number; e?: number }>();
  for (const e of entries) {
    if (agent && e.agent !== agent) continue;
    const v = byTask.get(e.task) ?? {};
    if (e.kind === 'start') v.s = e.at;
    else v.e = e.at;
    byTask.set(e.task, v);
  }
  return [...byTask.values()].map((v) => {
    assert.ok(v.s !== undefined && v.e !== undefined, 'every agent logged start and end');
    return [v.s, v.e];
  });
}

describe('concurrency limits', () => {
  test('board.max_concurrency and per-agent max_concurrency are never exceeded, and are used', async (t) => {
    let ledger = '';
    const b = await startBoard((root) => {
      ledger = path.join(root, 'ledger.txt');
      return {
        agents: {
          // Long enough that runs overlap even on a loaded machine: the limits must be reached.
          narrow: nodeAgent('ledger-agent.mjs', [ledger, '1000'], { max_concurrency: 2 }),
          wide: nodeAgent('ledger-agent.mjs', [ledger, '1000'], { max_concurrency: 5 }),
        },
        board: { max_concurrency: 3 },
      };
    });
    t.after(() => b.close());

    const ids: number[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push(taskNo(await addTask(b.app, { title: `narrow ${i}`, agent: 'narrow' })));
      ids.push(taskNo(await addTask(b.app, { title: `wide ${i}`, agent: 'wide' })));
    }
    for (const id of ids) await waitForStatus(b.app, id, 'review', 30_000);

    const entries = readLedger(ledger);
    assert.equal(entries.length, 20, 'each of the 10 agents logged start and end once');
    const all = maxOverlap(intervals(entries));
    const narrow = maxOverlap(intervals(entries, 'narrow'));
    assert.ok(all <= 3, `global limit 3 exceeded: ${all} agents ran at once`);
    assert.ok(narrow <= 2, `agent limit 2 exceeded: ${narrow} "narrow" agents ran at once`);
    // Limits that are never reached would make the checks above vacuous.
    assert.equal(all, 3, 'the global limit was reached');
    assert.equal(narrow, 2, 'the per-agent limit was reached');

    // The engine's own record agrees: claimed/running intervals from the DB.
    const runs = await allRuns(b.app);
    assert.equal(runs.length, 10);
    const span = (agent?: string) =>
      runs
        .filter((r) => !agent || r.agent === agent)
        .map((r): [number, number] => [r.claimed_at ?? 0, r.ended_at ?? 0]);
    assert.ok(maxOverlap(span()) <= 3, 'claimed-to-ended intervals respect the global limit');
    assert.ok(maxOverlap(span('narrow')) <= 2, 'and the per-agent limit');
  });

  test('a task has one active run: startRun on it throws a ConflictError naming that run', async (t) => {
    const b = await startBoard({ agents: { bot: shAgent('sleep 0.6') } });
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Busy', agent: 'bot' }));
    const active = await waitForRun(b.app, id, 'running');
    await assert.rejects(startRun(b.app, id), (e: unknown) => {
      assert.ok(e instanceof ConflictError, `a ConflictError, got ${String(e)}`);
      assert.equal(e.code, 'run_active');
      assert.ok(e.message.includes(active.id), `the message names ${active.id}: ${e.message}`);
      assert.equal(e.details.activeRun, active.id);
      return true;
    });
    assert.equal((await runsOf(b.app, id)).length, 1, 'no second run was queued');
    assert.equal((await allTasks(b.app)).length, 1);

    // Once the run has ended the task may run again, linked to the previous run.
    await waitForStatus(b.app, id, 'review');
    const again = await startRun(b.app, id);
    assert.equal(again.previousRun, active.id);
    await waitFor('the second run to start', async () => (await runsOf(b.app, id)).length === 2);
  });
});
