/**
 * Schedules and agent profiles in a running engine: real agent processes
 * (scripted `command` agents). The board runs on a manual clock set a
 * moment before a minute boundary (a cron tick): the test moves it there.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { MEMORY_ENV } from '../../src/app/profile.js';
import { addSchedule } from '../../src/app/schedules.js';
import { addTask } from '../../src/app/tasks.js';
import { formatTaskId } from '../../src/domain/ids.js';
import { listTasks } from '../../src/store/tasks.js';
import {
  allRuns,
  readRunFile,
  runsOf,
  shAgent,
  startBoard,
  taskNo,
  waitFor,
  waitForStatus,
} from '../engine/harness.js';
import { ManualClock } from '../support/manual-clock.js';

/**
 * How far before a minute boundary the board clock starts: off the grid of
 * the engine's periodic timers, so the one timer armed for the boundary is
 * the scheduler's.
 */
const LEAD_MS = 1550;

/** A manual board clock on which the next minute boundary is LEAD_MS away. */
function clockBeforeMinute(): ManualClock {
  const boundary = Math.ceil((Date.now() + LEAD_MS + 1000) / 60_000) * 60_000;
  return new ManualClock(boundary - LEAD_MS);
}

/** Once the scheduler has armed its timer for the tick: up to just short of it, nothing fires; then across it. */
async function crossTheMinute(clock: ManualClock, fired: () => Promise<boolean>): Promise<void> {
  const tick = clock.now() + LEAD_MS;
  await waitFor('the scheduler to arm its timer for the tick', () => clock.armedAt(tick) > 0);
  await clock.advanceAsync(LEAD_MS - 1);
  assert.equal(await fired(), false, 'nothing fires before its tick');
  await clock.advanceAsync(1);
}

describe('schedules in the engine', () => {
  test('a heartbeat tick starts a run of the agent whose prompt lists its open tasks', async (t) => {
    const clock = clockBeforeMinute();
    const b = await startBoard(
      {
        agents: { bot: shAgent('cat', { heartbeat: { cron: '* * * * *' } }) },
        board: { autostart: false },
      },
      { clock },
    );
    t.after(() => b.close());
    const mine = await addTask(b.app, { title: 'Fix the login', agent: 'bot' });
    const hbTask = (await listTasks(b.app.store.db, {})).find((x) => x.title === 'bot heartbeat');
    assert.ok(hbTask, 'the engine created the heartbeat task at start');
    await crossTheMinute(clock, async () => (await runsOf(b.app, hbTask.id)).length > 0);
    const run = await waitFor(
      'the heartbeat run to succeed',
      async () => (await runsOf(b.app, hbTask.id)).find((r) => r.state === 'succeeded'),
      15_000,
    );
    assert.equal(run.trigger, 'schedule');
    assert.equal(run.agent, 'bot');
    const out = readRunFile(b.app, run.id, 'stdout.log');
    // The agent received its profile (memory) and then the heartbeat prompt.
    assert.match(out, /^## Working memory\n/);
    assert.match(out, /\n---\n\n# Heartbeat of bot \(\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z\)\n/);
    assert.ok(out.includes(`## Your open tasks (1)\n- ${mine.id} [todo] Fix the login\n`), out);
    assert.equal(
      (await runsOf(b.app, taskNo(mine))).length,
      0,
      'the heartbeat reviews; it does not start the task itself',
    );
  });

  test('a schedule added while the engine runs fires at its next tick', async (t) => {
    const clock = clockBeforeMinute();
    const b = await startBoard({ agents: { bot: shAgent('cat') } }, { clock });
    t.after(() => b.close());
    await addSchedule(b.app, {
      cron: '* * * * *',
      agent: 'bot',
      prompt: 'Say the time',
      title: 'Clock',
    });
    await crossTheMinute(clock, async () => (await listTasks(b.app.store.db, {})).length > 0);
    const task = await waitFor(
      'the tick to create a task',
      async () => (await listTasks(b.app.store.db, {}))[0],
      15_000,
    );
    assert.match(task.title, /^Clock \(\d{4}-\d\d-\d\d \d\d:\d\d UTC\)$/);
    await waitForStatus(b.app, task.id, 'review', 15_000);
    const [run, ...more] = await runsOf(b.app, task.id);
    assert.equal(more.length, 0);
    assert.ok(run);
    assert.equal(
      readRunFile(b.app, run.id, 'stdout.log'),
      `# ${formatTaskId(task.id)}: ${task.title}\n\nSay the time\n`,
    );
  });
});

describe('agent profiles', () => {
  test('instructions are prepended, the memory file is in the env and its content in the next prompt', async (t) => {
    const b = await startBoard({
      agents: {
        bot: shAgent(
          `cat; echo "MEMORY=$${MEMORY_ENV}"; echo "learned on $AGENTBOARD_TASK_ID" >> "$${MEMORY_ENV}"`,
          { instructions: 'Be terse. Never push to main.' },
        ),
      },
    });
    t.after(() => b.close());
    const memory = path.join(b.app.paths.home, 'agents', 'bot', 'MEMORY.md');

    const first = await addTask(b.app, { title: 'First', agent: 'bot' });
    await waitForStatus(b.app, taskNo(first), 'review', 15_000);
    const [r1] = await runsOf(b.app, taskNo(first));
    assert.ok(r1);
    assert.equal(
      readRunFile(b.app, r1.id, 'stdout.log'),
      [
        'Be terse. Never push to main.',
        '',
        '## Working memory',
        '',
        `Your working memory is the file ${memory} (its path is also in $${MEMORY_ENV}). It is kept between runs: update it with what you want to remember next time.`,
        '',
        '(empty)',
        '',
        '---',
        '',
        `# ${first.id}: First`,
        `MEMORY=${memory}`,
        '',
      ].join('\n'),
    );
    assert.equal(r1.prompt, `# ${first.id}: First\n`, 'the run row keeps the prompt it was given');
    assert.equal(fs.readFileSync(memory, 'utf8'), `learned on ${first.id}\n`);

    const second = await addTask(b.app, { title: 'Second', agent: 'bot' });
    await waitForStatus(b.app, taskNo(second), 'review', 15_000);
    const [r2] = await runsOf(b.app, taskNo(second));
    assert.ok(r2);
    const out = readRunFile(b.app, r2.id, 'stdout.log');
    assert.ok(out.includes(`\n\nlearned on ${first.id}\n\n---\n\n# ${second.id}: Second\n`), out);
  });

  test('instructions_file and memory_file resolve against AGENTBOARD_HOME; an unreadable file fails the run clearly', async (t) => {
    const b = await startBoard((root) => {
      const home = path.join(root, '.agentboard');
      fs.mkdirSync(path.join(home, 'mem'), { recursive: true });
      fs.writeFileSync(path.join(home, 'reviewer.md'), 'You review code.\n');
      fs.writeFileSync(path.join(home, 'mem', 'notes.md'), 'The build is slow.\n');
      return {
        agents: {
          bot: shAgent(`cat; echo "MEMORY=$${MEMORY_ENV}"`, {
            instructions_file: 'reviewer.md',
            memory_file: 'mem/notes.md',
          }),
          broken: shAgent('cat', { instructions_file: 'missing.md' }),
        },
      };
    });
    t.after(() => b.close());
    const ok = await addTask(b.app, { title: 'Review', agent: 'bot' });
    await waitForStatus(b.app, taskNo(ok), 'review', 15_000);
    const [run] = await runsOf(b.app, taskNo(ok));
    assert.ok(run);
    const out = readRunFile(b.app, run.id, 'stdout.log');
    const notes = path.join(b.app.paths.home, 'mem', 'notes.md');
    assert.match(out, /^You review code\.\n\n## Working memory\n/);
    assert.ok(out.includes(`\n\nThe build is slow.\n\n---\n\n# ${ok.id}: Review\n`), out);
    assert.ok(out.endsWith(`MEMORY=${notes}\n`), out);

    const bad = await addTask(b.app, { title: 'Broken', agent: 'broken', maxAttempts: 1 });
    await waitForStatus(b.app, taskNo(bad), 'blocked', 15_000);
    const runs = (await allRuns(b.app)).filter((r) => r.task_id === taskNo(bad));
    assert.match(
      runs[0]?.error_summary ?? '',
      /agents\.broken\.instructions_file: cannot read .*missing\.md/,
    );
  });
});
