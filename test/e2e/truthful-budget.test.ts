import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, test } from 'node:test';
import { SHELL_SUCCESS, usageOf } from '../support/model-servers/scenarios.js';
import { describeRun, KINDS, openBoard } from './harness.js';

/**
 * Truthful outcomes (issue 14): a tiny `max_cost_usd` stops each agent. How far past the budget
 * each went is measured and printed as a table; the run fails with a budget reason and keeps its
 * usage.
 */
const BUDGET = 0.0001;
const rows: string[] = [];

after(() => {
  if (rows.length === 0) return;
  const head =
    '| agent | budget $ | recorded cost $ | source | × budget | tokens in/out | server in/out | API requests | tool ran | state |';
  console.log(['', 'Budget overshoot', head, `|${'---|'.repeat(10)}`, ...rows, ''].join('\n'));
});

for (const kind of KINDS) {
  test(`${kind}: a tiny max_cost_usd fails the run with a budget reason and keeps its usage; overshoot recorded`, async (t) => {
    const board = await openBoard(t, {
      kind,
      scenario: SHELL_SUCCESS,
      agent: { max_cost_usd: BUDGET },
    });
    const id = await board.addTask();
    const settled = await board.settle(id);
    const [run] = settled.runs;
    assert.ok(run);
    const server = usageOf(board.server?.requests ?? []);
    const toolRan = fs.existsSync(path.join(board.workspace, 'out.txt'));
    const row = `| ${kind} | ${BUDGET} | ${run.cost_usd.toFixed(4)} | ${run.cost_source ?? '-'} | ${(run.cost_usd / BUDGET).toFixed(0)} | ${run.tokens_in}/${run.tokens_out} | ${server.input}/${server.output} | ${server.requests} | ${toolRan ? 'yes' : 'no'} | ${run.state} |`;
    rows.push(row);
    t.diagnostic(row);
    t.diagnostic(describeRun(run));
    assert.equal(run.state, 'failed', describeRun(run));
    const reason = `${run.error_summary ?? ''} ${run.stop_reason ?? ''} ${settled.statusReason ?? ''}`;
    assert.match(reason, /budget/i, reason);
    assert.ok(
      run.tokens_in > 0 && run.tokens_out > 0,
      `usage lost: ${run.tokens_in}/${run.tokens_out}`,
    );
    assert.ok(run.cost_usd > 0, 'cost lost');
  });
}
