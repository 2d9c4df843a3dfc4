import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SHELL_SUCCESS } from '../support/model-servers/scenarios.js';
import { describeRun, KINDS, openBoard, plainProblems } from './harness.js';

/**
 * Truthful outcomes (issue 14): a CLI that exits 0 having printed output its adapter does not
 * recognise did not report a result. The run fails, naming the agent, and is not retried.
 * Claude is switched to text with its own flag (`args`, as a user might); the others run through
 * a wrapper `command` that swaps their JSON output flag for plain text.
 */
for (const kind of KINDS) {
  test(`${kind}: output in an unknown format with exit 0 fails the run once, not retried, "no final result from"`, async (t) => {
    const board = await openBoard(t, {
      kind,
      scenario: SHELL_SUCCESS,
      maxAttempts: 3,
      ...(kind === 'claude'
        ? { agent: { args: ['--output-format', 'text'] } }
        : { textMode: true }),
    });
    const id = await board.addTask();
    const settled = await board.settle(id);
    const [run] = settled.runs;
    t.diagnostic(`${kind}: ${describeRun(run)} unparsed_lines=${run?.unparsed_lines}`);
    assert.ok(
      (board.server?.requests.length ?? 0) > 0,
      'the CLI never reached the scripted server',
    );
    assert.equal(run?.exit_code, 0, `the CLI did not exit 0: ${describeRun(run)}`);
    assert.equal(run.state, 'failed', describeRun(run));
    assert.equal(settled.runs.length, 1, `retried: ${settled.runs.map(describeRun).join('; ')}`);
    assert.equal(settled.status, 'blocked');
    const summary = run.error_summary ?? '';
    assert.ok(summary.startsWith('no final result from'), summary);
    assert.ok(summary.includes(kind), `the summary does not name the CLI: ${summary}`);
    assert.deepEqual(plainProblems(summary), [], summary);
    assert.ok(run.unparsed_lines > 0, 'the unparsed lines are not counted');
  });
}
