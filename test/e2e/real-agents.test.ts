import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startRun } from '../../src/app/runs.js';
import { SHELL_SUCCESS } from '../support/model-servers/scenarios.js';
import { describeRun, KINDS, openBoard } from './harness.js';

/**
 * The real agent CLIs from npm, run by agentboard's engine through their adapters, against
 * scripted model servers on 127.0.0.1: usage, cost and session bookkeeping of a run and of its
 * resumed follow-up. (The truthful-*.test.ts files hold the outcome matrix of issue 14.)
 */
/** Where each CLI's cost comes from: its own report, or tokens × agentboard's price table. */
const COST_SOURCE: Readonly<Record<string, string>> = {
  claude: 'reported',
  codex: 'estimated',
  gemini: 'estimated',
  qwen: 'estimated',
};

for (const kind of KINDS) {
  test(`${kind}: a real run records usage, cost and its session; a follow-up prompt resumes that session`, async (t) => {
    const board = await openBoard(t, { kind, scenario: SHELL_SUCCESS });
    const id = await board.addTask();
    const { runs, status } = await board.settle(id);
    const [run] = runs;
    assert.equal(run?.state, 'succeeded', describeRun(run));
    assert.equal(status, 'review');
    assert.equal(fs.readFileSync(path.join(board.workspace, 'out.txt'), 'utf8'), 'hello\n');
    assert.ok(!fs.existsSync(path.join(board.workspace, 'pwned')), 'task text was executed');
    assert.ok(run.tokens_in > 0 && run.tokens_out > 0, 'no usage');
    assert.ok(run.cost_usd > 0, 'no cost');
    const source = COST_SOURCE[kind];
    if (source) assert.equal(run.cost_source, source);
    const session = run.session_id;
    assert.ok(session, 'no session id');

    const follow = await startRun(board.app, id, {
      prompt: 'What did you just do? Answer in one line.',
    });
    const ended = await board.waitRun(follow.id);
    assert.equal(ended.state, 'succeeded', describeRun(ended));
    assert.equal(ended.resume_session_id, session);
    assert.equal(ended.session_id, session, 'the follow-up ran in another session');
    assert.equal(ended.previous_run_id, run.id);
    const events = await board.events(ended.id);
    assert.ok(events.some((e) => e.type === 'result' && e.ok));
  });
}
