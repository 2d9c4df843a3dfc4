import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { nodeAgent, runsOf, shAgent, startBoard, taskNo, waitForStatus } from './harness.js';

describe('resource use', () => {
  test('CPU time and peak RSS of the agent process group are recorded on its run', async (t) => {
    const b = await startBoard({
      agents: {
        burner: nodeAgent('busy-agent.mjs', ['1000']),
        sleeper: shAgent('sleep 1'),
      },
    });
    t.after(() => b.close());
    const busy = taskNo(await addTask(b.app, { title: 'Burn', agent: 'burner' }));
    const idle = taskNo(await addTask(b.app, { title: 'Nap', agent: 'sleeper' }));
    await waitForStatus(b.app, busy, 'review', 6000);
    await waitForStatus(b.app, idle, 'review', 6000);

    const [hot] = await runsOf(b.app, busy);
    assert.ok(hot);
    assert.ok((hot.cpu_ms ?? 0) > 500, `busy agent cpu_ms = ${hot.cpu_ms}`);
    // A node process holding a 16 MB buffer: comfortably above a few MB.
    assert.ok(
      (hot.peak_rss_bytes ?? 0) > 16 * 1024 * 1024,
      `peak_rss_bytes = ${hot.peak_rss_bytes}`,
    );

    // Wall-clock time alone does not count as CPU.
    const [cold] = await runsOf(b.app, idle);
    assert.ok(cold);
    assert.ok(cold.cpu_ms !== null && cold.cpu_ms < 300, `sleeping agent cpu_ms = ${cold.cpu_ms}`);
    assert.ok((cold.peak_rss_bytes ?? 0) > 0, 'its RSS was sampled too');
    assert.ok((hot.peak_rss_bytes ?? 0) > (cold.peak_rss_bytes ?? 0));
  });
});
