import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { isSameProcess, processStartTime } from '../../src/runner/proc.js';
import {
  groupAlive,
  readRunFile,
  runsOf,
  shAgent,
  startBoard,
  taskNo,
  waitFor,
  waitForRun,
  waitForStatus,
} from './harness.js';

/** The agent's own pid (written to its run dir) and start time, once it is up. */
async function agentIdentity(
  app: Parameters<typeof readRunFile>[0],
  runId: string,
): Promise<{ pid: number; start: number }> {
  return waitFor('the agent to write its pid', () => {
    try {
      const pid = Number(readRunFile(app, runId, 'agent.pid').trim());
      const start = pid > 0 ? processStartTime(pid) : null;
      return start === null ? undefined : { pid, start };
    } catch {
      return undefined;
    }
  });
}

describe('timeouts', () => {
  test('the wall-clock timeout kills the agent (SIGKILL after the grace if it ignores SIGTERM): timed_out', async (t) => {
    const b = await startBoard({
      agents: {
        stubborn: shAgent(
          // Keeps talking (so idle never fires) and ignores SIGTERM, as do its children.
          `trap "" TERM; echo $$ > "$AGENTBOARD_RUN_DIR/agent.pid"; while :; do echo tick; sleep 0.1; done`,
          { timeout: '600ms' },
        ),
      },
      defaults: { max_attempts: 1, stop_grace: '300ms' },
    });
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Forever', agent: 'stubborn' }));
    const running = await waitForRun(b.app, id, 'running');
    const agent = await agentIdentity(b.app, running.id);

    const card = await waitForStatus(b.app, id, 'blocked', 10_000);
    const [r, ...more] = await runsOf(b.app, id);
    assert.ok(r);
    assert.equal(more.length, 0);
    assert.equal(r.state, 'timed_out');
    assert.equal(r.stop_action, 'timeout');
    assert.match(r.error_summary ?? '', /^timed out after 600ms \(wall-clock timeout\)/);
    assert.match(card.status_reason ?? '', /timed out after 600ms \(wall-clock timeout\)/);
    assert.ok(r.started_at !== null && r.ended_at !== null);
    const lived = r.ended_at - r.started_at;
    assert.ok(lived >= 600, `killed only after the timeout (lived ${lived} ms)`);
    // Well under the default 10 s grace: the configured 300 ms was used. The
    // margin is for a loaded CI machine, where the monitors' ticks run late.
    assert.ok(lived < 5000, `killed promptly after timeout + grace (lived ${lived} ms)`);
    // SIGTERM was ignored, so only the SIGKILL after the grace can have ended it.
    assert.ok(lived >= 600 + 300 - 50, `the grace was honoured (lived ${lived} ms)`);
    assert.equal(isSameProcess(agent.pid, agent.start), false, 'the agent process is gone');
    assert.equal(groupAlive(r.pgid), false, 'nothing is left in its process group');
  });

  test('idle_timeout kills a silent agent: failed with the idle reason, then retried per policy', async (t) => {
    const b = await startBoard({
      agents: {
        mute: shAgent(`echo "hello"; echo $$ > "$AGENTBOARD_RUN_DIR/agent.pid"; exec sleep 30`, {
          idle_timeout: '400ms',
        }),
      },
      defaults: { max_attempts: 2, backoff: { base: '100ms', jitter: 0 } },
    });
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Silent', agent: 'mute' }));
    const first = await waitForRun(b.app, id, 'running');
    const agent = await agentIdentity(b.app, first.id);

    const card = await waitForStatus(b.app, id, 'blocked', 5000);
    const runs = await runsOf(b.app, id);
    assert.equal(runs.length, 2, 'one retry (max_attempts 2)');
    const reason = 'no output for 400ms (idle_timeout): killed';
    for (const r of runs) {
      assert.equal(r.state, 'failed');
      assert.equal(r.stop_action, 'idle');
      assert.ok(r.error_summary?.startsWith(reason), String(r.error_summary));
      assert.ok(r.started_at !== null && r.ended_at !== null);
      assert.ok(r.ended_at - r.started_at >= 400, 'not killed before the idle timeout');
      assert.ok(r.ended_at - r.started_at < 2500, 'killed, not left to sleep 30 s');
      assert.equal(groupAlive(r.pgid), false);
    }
    assert.equal(runs[1]?.previous_run_id, first.id);
    assert.equal(runs[1]?.attempt, 2);
    assert.equal(runs[1]?.trigger, 'retry');
    assert.equal(isSameProcess(agent.pid, agent.start), false, 'the first agent is gone');
    assert.ok(card.status_reason?.startsWith(`retries exhausted (2 of 2): ${reason}`));
  });

  test('an agent that keeps producing output is not idle, however long it runs', async (t) => {
    const b = await startBoard({
      agents: {
        chatty: shAgent(
          'i=0; while [ $i -lt 12 ]; do echo "step $i"; sleep 0.1; i=$((i+1)); done',
          {
            idle_timeout: '400ms',
          },
        ),
      },
      defaults: { max_attempts: 1 },
    });
    t.after(() => b.close());
    const id = taskNo(await addTask(b.app, { title: 'Chatty', agent: 'chatty' }));
    await waitForStatus(b.app, id, 'review', 5000);
    const [r] = await runsOf(b.app, id);
    assert.ok(r?.started_at && r.ended_at);
    assert.equal(r.state, 'succeeded');
    assert.ok(r.ended_at - r.started_at >= 1100, 'it outlived the idle timeout several times');
  });
});
