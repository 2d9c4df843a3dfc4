import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CliKind, Scenario } from '../support/model-servers/index.js';
import { AUTH_ERROR, EXPIRED_KEY } from '../support/model-servers/scenarios.js';
import { describeRun, KINDS, openBoard, plainProblems } from './harness.js';

/**
 * Truthful outcomes (issue 14): auth errors are recognised for every adapter, never retried, and
 * summarised in one plain sentence that keeps the provider's word.
 */
async function authCase(
  t: import('node:test').TestContext,
  kind: CliKind,
  scenario: Scenario,
  word: RegExp,
) {
  // The CLI's own retries stay at their default: the engine must not wait for them to run out.
  const board = await openBoard(t, { kind, scenario, maxAttempts: 3, maxRetries: 2 });
  const id = await board.addTask();
  const settled = await board.settle(id);
  const [run] = settled.runs;
  assert.ok((board.server?.requests.length ?? 0) > 0, 'the CLI never reached the scripted server');
  assert.equal(settled.status, 'blocked', describeRun(run));
  assert.equal(settled.runs.length, 1, `retried: ${settled.runs.map(describeRun).join('; ')}`);
  assert.equal(run?.state, 'failed', describeRun(run));
  const summary = run.error_summary ?? '';
  t.diagnostic(`${kind} error_summary: ${summary}`);
  t.diagnostic(`${kind} status_reason: ${settled.statusReason}`);
  assert.match(summary, word, summary);
  assert.ok(summary.includes(board.agent), `the summary does not name the agent: ${summary}`);
  assert.deepEqual(plainProblems(summary), [], summary);
  assert.ok(summary.length <= 300, `not one sentence (${summary.length} chars): ${summary}`);
}

for (const kind of KINDS) {
  test(`${kind}: a 401 blocks the card after exactly one run, with one plain sentence saying the key was rejected`, async (t) => {
    await authCase(t, kind, AUTH_ERROR[kind], /rejected/i);
  });

  test(`${kind}: an expired key (in the provider's real shape) blocks the card after exactly one run, with one plain sentence saying it expired`, async (t) => {
    // Claude Code 2.1.330 never passes the provider's words on: its retry notices say
    // "authentication_failed" and its result "Invalid API key · Fix external API key", on
    // stdout, stderr and in --debug-file alike. Nothing it prints can say "expired".
    await authCase(t, kind, EXPIRED_KEY[kind], kind === 'claude' ? /rejected/i : /expired/i);
  });
}
