import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { rateLimited } from '../support/model-servers/scenarios.js';
import { describeRun, KINDS, openBoard } from './harness.js';

/**
 * Truthful outcomes (issue 14): a provider's 429 with retry-after is retried by the CLI, and the
 * retry is visible on the run (its `notice`) while the CLI waits; the run then succeeds.
 */
/**
 * opencode 1.18.33 and Qwen Code 0.21.10 retry a 429 without printing anything, on stdout or
 * stderr (Qwen Code prints heartbeats only with QWEN_CODE_UNATTENDED_RETRY=1, which also makes it
 * retry forever).
 */
const SILENT_RETRIES = new Set(['opencode', 'qwen']);

for (const kind of KINDS) {
  test(`${kind}: a 429 with retry-after shows the retry as the run's notice while it waits, then the run succeeds`, async (t) => {
    const scenario = rateLimited(kind, 2, 2);
    const board = await openBoard(t, { kind, scenario, maxRetries: 3 });
    const id = await board.addTask();
    const settled = await board.settle(id);
    const [run] = settled.runs;
    t.diagnostic(`${kind} notices: ${JSON.stringify(settled.notices)}`);
    const errors = board.server?.requests.filter((r) => r.status === 429).length ?? 0;
    assert.equal(errors, 2, 'the server did not answer 429 twice');
    assert.equal(settled.runs.length, 1);
    assert.equal(run?.state, 'succeeded', describeRun(run));
    assert.equal(settled.status, 'review');
    assert.equal(fs.readFileSync(path.join(board.workspace, 'out.txt'), 'utf8'), 'hello\n');
    if (SILENT_RETRIES.has(kind)) {
      // Nothing to show: the CLI prints nothing at all while it retries (checked on stdout and stderr).
      t.diagnostic(`${kind} retries silently: no notice can be shown`);
      return;
    }
    assert.ok(
      settled.notices.some((n) => n.includes('429')),
      `no notice mentioning 429 was visible while the CLI waited: ${JSON.stringify(settled.notices)}`,
    );
  });
}
