import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addTask, cancelTask, insertNewTask, moveTask } from '../../src/app/tasks.js';
import { ManualClock } from '../support/manual-clock.js';
import {
  allTasks,
  type Board,
  eventsOf,
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
/**
 * Several monitor passes (every 100 ms; Todo cards every queue_timeout / 2)
 * past the timeout, on the board's manual clock: a second flag would have come by then.
 */
const SETTLE_MS = 600;

/** A board on a ManualClock: cards wait in Todo only as long as the test moves it. */
type ClockBoard = Board & { clock: ManualClock };

async function onClock(
  t: { after(fn: () => Promise<void>): void },
  raw: Record<string, unknown>,
): Promise<ClockBoard> {
  const clock = new ManualClock(Date.now());
  const b = await startBoard(raw, { clock });
  t.after(() => b.close());
  return { ...b, clock };
}

function board(t: { after(fn: () => Promise<void>): void }, action: string): Promise<ClockBoard> {
  return onClock(t, {
    agents: {
      bot: shAgent('exec sleep 30'),
      spare: shAgent('echo spare ran'),
    },
    defaults: {
      queue_timeout: `${QUEUE_TIMEOUT}ms`,
      on_queue_timeout: action,
      reassign_to: 'spare',
    },
  });
}

async function todoTimeouts(b: Board, taskId: number) {
  return (await eventsOf(b.app, 'task.todo_timeout')).filter((e) => e.taskId === taskId);
}

/** Moves the clock past queue_timeout (and a Todo check), then reads the flag. */
async function flagOf(b: ClockBoard, taskId: number) {
  await b.clock.advanceAsync(QUEUE_TIMEOUT + SETTLE_MS);
  return waitFor(
    `the task.todo_timeout event of T-${taskId}`,
    async () => (await todoTimeouts(b, taskId))[0],
    5000,
  );
}

describe('Todo monitor (queue_timeout / on_queue_timeout for cards that cannot start)', () => {
  test('a card waiting on a Blocked dependency is flagged once, after queue_timeout, saying why', async (t) => {
    const b = await board(t, 'log_only');
    const dep = taskNo(await addTask(b.app, { title: 'Gave up', agent: 'bot', status: 'blocked' }));
    const waiting = taskNo(
      await addTask(b.app, { title: 'Waits', agent: 'bot', dependsOn: [dep] }),
    );
    const created = (await task(b.app, waiting)).created_at;
    const ev = await flagOf(b, waiting);
    assert.ok(ev.createdAt - created >= QUEUE_TIMEOUT, 'not flagged before queue_timeout');
    assert.equal(ev.data.action, 'log_only');
    assert.equal(ev.data.blockedBy, `T-${dep}`);
    const card = await task(b.app, waiting);
    assert.equal(card.status, 'todo');
    assert.match(
      card.status_reason ?? '',
      new RegExp(
        `^waiting on T-${dep}, which is Blocked: retry T-${dep} \\(move it to Todo\\), or drop the dependency \\(\`agentboard task edit T-${waiting} --rm-dep T-${dep}\`\\)$`,
      ),
    );
    assert.equal(ev.data.reason, card.status_reason);
    await b.clock.advanceAsync(SETTLE_MS);
    assert.equal((await todoTimeouts(b, waiting)).length, 1, 'flagged once');
    assert.equal((await todoTimeouts(b, dep)).length, 0, 'the Blocked card itself is not in Todo');
    assert.equal((await allTasks(b.app)).length, 2, 'log_only adds no card');
    assert.equal((await runsOf(b.app, waiting)).length, 0);
    assert.ok(
      b.log.some((l) => l.includes(`T-${waiting} has waited`)),
      'the engine says so',
    );

    // The cause goes away (the dependency is retried and runs): the flag is cleared.
    await moveTask(b.app, dep, 'todo');
    await waitForRun(b.app, dep, 'running');
    await b.clock.advanceAsync(SETTLE_MS);
    await waitFor(
      'the flag to be cleared',
      async () => (await task(b.app, waiting)).status_reason === null,
      5000,
    );
    assert.equal((await todoTimeouts(b, waiting)).length, 1);
  });

  test('escalate: a card waiting on a Cancelled dependency gets one escalation card', async (t) => {
    const b = await board(t, 'escalate');
    const dep = taskNo(await addTask(b.app, { title: 'Dropped', status: 'backlog' }));
    await cancelTask(b.app, dep);
    const waiting = taskNo(
      await addTask(b.app, { title: 'Waits', agent: 'bot', dependsOn: [dep] }),
    );
    const ev = await flagOf(b, waiting);
    const card = await task(b.app, waiting);
    assert.match(
      card.status_reason ?? '',
      new RegExp(`^waiting on T-${dep}, which is Cancelled: reopen T-${dep}, or drop`),
    );
    await b.clock.advanceAsync(SETTLE_MS);
    const tasks = await allTasks(b.app);
    assert.equal(
      tasks.length,
      3,
      'one escalation card, and the escalation card is not flagged itself',
    );
    const esc = tasks.find((x) => x.id > waiting);
    assert.ok(esc);
    assert.equal(ev.data.escalationTask, `T-${esc.id}`);
    assert.match(esc.title, new RegExp(`^Escalation: T-${waiting} has waited \\S+ in Todo$`));
    assert.ok(esc.body.includes(card.status_reason ?? '<none>'), 'the escalation says why');
    assert.deepEqual(JSON.parse(esc.labels), ['escalation']);
    assert.equal(esc.priority, 2, 'high');
    assert.equal(esc.agent, null);
    assert.equal((await todoTimeouts(b, waiting)).length, 1, 'escalated once');
    assert.equal((await todoTimeouts(b, esc.id)).length, 0);
  });

  test('a card with no agent, or an agent no longer configured, is flagged once; a card whose dependency is running is not', async (t) => {
    const b = await board(t, 'mark_stalled');
    const running = taskNo(await addTask(b.app, { title: 'Runs', agent: 'bot' }));
    await waitForRun(b.app, running, 'running');
    const patient = taskNo(
      await addTask(b.app, { title: 'Waits its turn', agent: 'bot', dependsOn: [running] }),
    );
    const orphan = taskNo(await addTask(b.app, { title: 'Nobody', agent: null }));
    // The agent was removed from config.yaml after the card was made: addTask would refuse it.
    const ghost = await b.app.store.tx((tx) =>
      insertNewTask(tx, { title: 'Gone agent', status: 'todo', agent: 'ghost' }),
    );
    const orphanFlag = await flagOf(b, orphan);
    const ghostFlag = await flagOf(b, ghost.id);
    assert.match(
      (await task(b.app, orphan)).status_reason ?? '',
      new RegExp(`^no agent: set one \\(\`agentboard task edit T-${orphan} --agent <name>\`\\)`),
    );
    assert.match(
      (await task(b.app, ghost.id)).status_reason ?? '',
      /^agent "ghost" is not configured: add it under agents in \S+config\.yaml, or set another/,
    );
    assert.equal(orphanFlag.data.action, 'mark_stalled');
    assert.equal(ghostFlag.data.blockedBy, null);
    await b.clock.advanceAsync(SETTLE_MS);
    assert.equal((await todoTimeouts(b, orphan)).length, 1, 'flagged once');
    assert.equal((await todoTimeouts(b, ghost.id)).length, 1, 'flagged once');
    // The monitor ran well past queue_timeout for every card (the two flags above prove it).
    assert.equal((await todoTimeouts(b, patient)).length, 0, 'a running dependency is no fault');
    const card = await task(b.app, patient);
    assert.equal(card.status, 'todo');
    assert.equal(card.status_reason, null);
    assert.equal((await todoTimeouts(b, running)).length, 0);
  });

  test('reassign: a card with no agent gets reassign_to and runs', async (t) => {
    const b = await board(t, 'reassign');
    const orphan = taskNo(await addTask(b.app, { title: 'Nobody', agent: null }));
    const ev = await flagOf(b, orphan);
    assert.equal(ev.data.reassignedTo, 'spare');
    const card = await waitForStatus(b.app, orphan, 'review', 15_000);
    assert.equal(card.agent, 'spare');
    const [run] = await runsOf(b.app, orphan);
    assert.equal(run?.agent, 'spare');
    assert.equal(run?.state, 'succeeded');
    assert.equal((await todoTimeouts(b, orphan)).length, 1);
  });

  test('without autostart, a card with no agent is not flagged; one on a Blocked dependency is', async (t) => {
    const b = await onClock(t, {
      agents: { bot: shAgent('exit 0') },
      defaults: { queue_timeout: `${QUEUE_TIMEOUT}ms` },
      board: { autostart: false },
    });
    const orphan = taskNo(await addTask(b.app, { title: 'Nobody', agent: null }));
    const dep = taskNo(await addTask(b.app, { title: 'Gave up', agent: 'bot', status: 'blocked' }));
    const waiting = taskNo(
      await addTask(b.app, { title: 'Waits', agent: 'bot', dependsOn: [dep] }),
    );
    await flagOf(b, waiting);
    await b.clock.advanceAsync(SETTLE_MS);
    assert.equal((await todoTimeouts(b, orphan)).length, 0);
    assert.equal((await task(b.app, orphan)).status_reason, null);
  });
});
