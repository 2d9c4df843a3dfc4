import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CUT_MID_STREAM, SHELL_SUCCESS_FINAL } from '../support/model-servers/scenarios.js';
import { describeRun, eventTypes, KINDS, openBoard, plainProblems } from './harness.js';

/**
 * Truthful outcomes (issue 14): the final answer's connection is cut after its first delta. The
 * run either retries and succeeds with the whole final message, or fails with a reason; it never
 * succeeds without the final message.
 */
for (const kind of KINDS) {
  test(`${kind}: a response cut mid-stream ends truthfully (retried and whole, or failed with a reason)`, async (t) => {
    const board = await openBoard(t, { kind, scenario: CUT_MID_STREAM, maxRetries: 2 });
    const id = await board.addTask();
    const settled = await board.settle(id);
    const [run] = settled.runs;
    assert.ok(run);
    const requests = board.server?.requests ?? [];
    const cut = requests.filter((r) => r.cut);
    assert.equal(cut.length, 1, 'the server did not cut a response');
    const cutSeq = cut[0]?.seq ?? 0;
    const retried = requests.some((r) => r.kind === 'main' && r.seq > cutSeq);
    t.diagnostic(
      `${kind}: CLI ${retried ? 'retried the cut request' : 'did not retry'}; run ${describeRun(run)}; card ${settled.status}`,
    );
    const events = await board.events(run.id);
    if (run.state === 'succeeded') {
      assert.ok(retried, 'succeeded although the final answer was never received whole');
      assert.ok(
        events.some((e) => e.type === 'message' && e.text.includes(SHELL_SUCCESS_FINAL)),
        `succeeded without the final message: ${eventTypes(events)}`,
      );
      assert.ok(events.some((e) => e.type === 'result' && e.ok));
      assert.equal(settled.status, 'review');
    } else {
      assert.equal(run.state, 'failed', describeRun(run));
      assert.equal(settled.status, 'blocked');
      const summary = run.error_summary ?? '';
      assert.ok(summary.length > 0, 'failed without a reason');
      // The reason comes first, in one plain line; the cleaned stderr tail may follow below it.
      const [reason = '', ...tail] = summary.split('\n');
      assert.deepEqual(plainProblems(reason), [], summary);
      assert.deepEqual(
        plainProblems(tail.join(' ')).filter((p) => p !== 'raw JSON braces'),
        [],
        summary,
      );
    }
  });
}
