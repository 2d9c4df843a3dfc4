import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRun, openBoard } from './harness.js';

/**
 * Truthful outcomes (issue 14): a loop that runs out of iterations without its DONE marker ends
 * Blocked with the reason, never in Review like a loop that finished.
 */
test('a loop whose agent never writes DONE ends Blocked: "loop stopped after 2 iterations"', async (t) => {
  const board = await openBoard(t, {
    kind: 'command',
    agent: { command: 'sh', args: ['-c', 'cat >/dev/null; echo still working'] },
  });
  const id = await board.addTask({
    title: 'Loop until DONE',
    loop: { enabled: true, maxIterations: 2, delayMs: 0 },
  });
  const settled = await board.settle(id, { timeoutMs: 60_000 });
  t.diagnostic(`status_reason: ${settled.statusReason}`);
  t.diagnostic(`runs: ${settled.runs.map(describeRun).join('; ')}`);
  assert.equal(settled.runs.length, 2, 'not exactly 2 iterations');
  assert.ok(settled.runs.every((r) => r.state === 'succeeded'));
  assert.equal(settled.status, 'blocked');
  assert.match(settled.statusReason ?? '', /loop stopped after 2 iterations/);
  assert.match(settled.statusReason ?? '', /DONE/);
});

test('a loop whose agent writes DONE in its second iteration ends in Review', async (t) => {
  const board = await openBoard(t, {
    kind: 'command',
    agent: {
      command: 'sh',
      args: [
        '-c',
        'cat >/dev/null; if [ -e .iter ]; then touch DONE; else touch .iter; fi; echo ok',
      ],
    },
  });
  const id = await board.addTask({
    title: 'Loop until DONE',
    loop: { enabled: true, maxIterations: 3, delayMs: 0 },
  });
  const settled = await board.settle(id, { timeoutMs: 60_000 });
  assert.equal(settled.runs.length, 2, settled.runs.map(describeRun).join('; '));
  assert.equal(settled.status, 'review', `${settled.status}: ${settled.statusReason}`);
});
