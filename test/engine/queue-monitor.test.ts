import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import type { RunRow } from '../../src/store/runs.js';
import { ManualClock } from '../support/manual-clock.js';
import {
  allTasks,
  type Board,
  eventsOf,
  readRunFile,
  runsOf,
  shAgent,
  startBoard,
  task,
  taskNo,
  waitFor,
  waitForRun,
  waitForStatus,
} from './harness.js';

const QUEUE_TIMEOUT = 300;
/** The monitors' period in the harness. */
const TICK = 100;

/**
 * A board whose `slow` agent (max_concurrency 1) is kept busy by T-1, so that
 * T-2 (also `slow`) waits in the queue until the queue monitor acts.
 */
async function saturated(
  t: { after(fn: () => Promise<void>): void },
  action: string,
): Promise<{
  b: Board;
  clock: ManualClock;
  blocker: RunRow;
  waiting: RunRow;
  waitingTask: number;
}> {
  // The queue waits only as long as the test moves this clock.
  const clock = new ManualClock(Date.now());
  const b = await startBoard(
    {
      agents: {
        slow: shAgent('exec sleep 30', { max_concurrency: 1 }),
        spare: shAgent('echo "spare ran $AGENTBOARD_AGENT"', { max_concurrency: 1 }),
      },
      defaults: {
        queue_timeout: `${QUEUE_TIMEOUT}ms`,
        on_queue_timeout: action,
        reassign_to: 'spare',
      },
    },
    { clock },
  );
  t.after(() => b.close());
  const first = taskNo(await addTask(b.app, { title: 'Hog', agent: 'slow' }));
  const blocker = await waitForRun(b.app, first, 'running');
  const waitingTask = taskNo(await addTask(b.app, { title: 'Waiting', agent: 'slow' }));
  const [waiting] = await runsOf(b.app, waitingTask);
  assert.ok(waiting);
  assert.equal(waiting.state, 'queued');
  return { b, clock, blocker, waiting, waitingTask };
}

/** Moves the clock to just short of queue_timeout (nothing yet), then past it: the event. */
async function queueTimeoutEvent(b: Board, clock: ManualClock, runId: string) {
  const flagged = async () =>
    (await eventsOf(b.app, 'run.queue_timeout')).find((e) => e.runId === runId);
  await clock.advanceAsync(QUEUE_TIMEOUT - TICK);
  assert.equal(await flagged(), undefined, 'not flagged before queue_timeout');
  await clock.advanceAsync(2 * TICK);
  return waitFor('the run.queue_timeout event', flagged, 3000);
}

describe('queue monitor (queue_timeout / on_queue_timeout)', () => {
  test('log_only: an event, once, and nothing else changes', async (t) => {
    const { b, clock, waiting, waitingTask } = await saturated(t, 'log_only');
    const ev = await queueTimeoutEvent(b, clock, waiting.id);
    assert.equal(ev.data.action, 'log_only');
    assert.ok(Number(ev.data.waitedMs) >= QUEUE_TIMEOUT, `waited ${ev.data.waitedMs} ms`);
    assert.ok(ev.createdAt - waiting.run_at >= QUEUE_TIMEOUT, 'not flagged before queue_timeout');
    await clock.advanceAsync(10 * QUEUE_TIMEOUT); // many monitor passes, each awaited
    assert.equal((await eventsOf(b.app, 'run.queue_timeout')).length, 1, 'flagged once');
    const [run] = await runsOf(b.app, waitingTask);
    assert.equal(run?.state, 'queued');
    assert.equal(run?.agent, 'slow');
    const card = await task(b.app, waitingTask);
    assert.equal(card.status, 'in_progress');
    assert.equal(card.status_reason, null);
    assert.equal((await allTasks(b.app)).length, 2, 'no escalation task');
  });

  test('mark_stalled: the run is flagged stalled and the card says why', async (t) => {
    const { b, clock, waiting, waitingTask } = await saturated(t, 'mark_stalled');
    await queueTimeoutEvent(b, clock, waiting.id);
    const [run] = await runsOf(b.app, waitingTask);
    assert.ok(run?.stalled_at, 'stalled_at is set');
    assert.equal(run.state, 'queued', 'still waiting for its turn');
    const card = await task(b.app, waitingTask);
    assert.match(card.status_reason ?? '', /^stalled: queued for \S+ without starting$/);
    assert.equal((await allTasks(b.app)).length, 2);
  });

  test('reassign: the run moves to reassign_to and runs there while the first agent is still busy', async (t) => {
    const { b, clock, blocker, waiting, waitingTask } = await saturated(t, 'reassign');
    const ev = await queueTimeoutEvent(b, clock, waiting.id);
    assert.equal(ev.data.reassignedTo, 'spare');
    await waitForStatus(b.app, waitingTask, 'review', 15_000);
    const runs = await runsOf(b.app, waitingTask);
    assert.equal(runs.length, 1, 'the same run was reassigned, not a new one queued');
    const [run] = runs;
    assert.ok(run);
    assert.equal(run.id, waiting.id);
    assert.equal(run.agent, 'spare');
    assert.equal(run.state, 'succeeded');
    assert.equal(readRunFile(b.app, run.id, 'stdout.log'), 'spare ran spare\n');
    const [hog] = await runsOf(b.app, blocker.task_id);
    assert.equal(hog?.state, 'running', 'the slow agent was still busy');
  });

  test('escalate: a linked, high-priority escalation task is created', async (t) => {
    const { b, clock, waiting, waitingTask } = await saturated(t, 'escalate');
    const ev = await queueTimeoutEvent(b, clock, waiting.id);
    const tasks = await allTasks(b.app);
    assert.equal(tasks.length, 3);
    const esc = tasks.find((x) => x.id > waitingTask);
    assert.ok(esc, 'an escalation task exists');
    assert.equal(ev.data.escalationTask, `T-${esc.id}`);
    assert.match(esc.title, new RegExp(`^Escalation: T-${waitingTask} has waited `));
    assert.ok(esc.body.includes(waiting.id), 'the body names the waiting run');
    assert.deepEqual(JSON.parse(esc.labels), ['escalation']);
    assert.equal(esc.priority, 2, 'high');
    assert.equal(esc.agent, null, 'for a human: not started by an agent');
    assert.equal(esc.status, 'todo');
    assert.equal(esc.escalated_from_run_id, waiting.id, 'linked to the run that waited');
    await clock.advanceAsync(10 * QUEUE_TIMEOUT);
    assert.equal((await allTasks(b.app)).length, 3, 'escalated once');
    const [run] = await runsOf(b.app, waitingTask);
    assert.equal(run?.state, 'queued');
    assert.ok(run?.stalled_at);
  });
});
