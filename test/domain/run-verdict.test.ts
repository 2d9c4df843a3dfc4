import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type AgentAccount,
  judgeByAccount,
  type RunEndDecision,
} from '../../src/domain/run-end.js';

const exit0: RunEndDecision = { state: 'succeeded', reason: 'exit 0', retryable: false };
const exit1: RunEndDecision = { state: 'failed', reason: 'exit 1', retryable: true };
const account: AgentAccount = {
  agent: 'bot',
  cli: 'claude 2.1.330',
  resultOk: true,
  failure: null,
  diagnosis: null,
  unparsedLines: 0,
  overBudget: null,
  exitIsResult: false,
};
const judge = (d: RunEndDecision, over: Partial<AgentAccount>, stopped = false) =>
  judgeByAccount(d, stopped, { ...account, ...over });

test('exit 0 succeeds only with the agent’s own ok result', () => {
  assert.deepEqual(judge(exit0, {}), exit0);
  assert.deepEqual(judge(exit0, { resultOk: null, exitIsResult: true }), exit0);
  assert.deepEqual(judge(exit0, { resultOk: false, failure: 'tool crashed' }), {
    state: 'failed',
    retryable: true,
    reason: 'the agent reported an error: tool crashed',
  });
  const none = judge(exit0, { resultOk: null });
  assert.equal(none.state, 'failed');
  assert.equal(none.retryable, false);
  assert.match(
    none.reason,
    /^no final result from claude 2\.1\.330: it exited 0 without reporting one/,
  );
  assert.match(
    judge(exit0, { resultOk: null, unparsedLines: 1 }).reason,
    /output not recognised \(1 unparsed line\)/,
  );
});

test('a recognised failure is never retried and says which agent, what was said, and what to do', () => {
  const cases = [
    ['auth', /the provider rejected the API key \(401: Invalid API key\); set a valid key/],
    ['auth_expired', /has expired \(401: Invalid API key\); renew it/],
    ['config', /configuration is incomplete/],
    ['usage', /refused its command line/],
    ['budget', /its own budget or turn limit/],
  ] as const;
  for (const [category, words] of cases) {
    for (const d of [exit0, exit1]) {
      const v = judge(d, { diagnosis: { category, message: 'Invalid API key', status: 401 } });
      assert.equal(v.state, 'failed');
      assert.equal(v.retryable, false, category);
      assert.match(v.reason, /^bot \(claude 2\.1\.330\): /);
      assert.match(v.reason, words);
    }
  }
});

test('over budget fails without a retry, even when the CLI only reported it at its end', () => {
  for (const d of [exit0, exit1]) {
    assert.deepEqual(
      judge(d, { overBudget: 'cost $0.20 (estimated) exceeded the budget of $0.1' }),
      {
        state: 'failed',
        retryable: false,
        reason: 'budget exceeded: cost $0.20 (estimated) exceeded the budget of $0.1',
      },
    );
  }
});

test('a failed exit keeps its classification and adds the agent’s words; stops and timeouts keep their verdict', () => {
  assert.deepEqual(judge(exit1, { resultOk: false, failure: 'rate limited' }), {
    ...exit1,
    reason: 'exit 1: rate limited',
  });
  const timedOut: RunEndDecision = { state: 'timed_out', reason: 'timed out', retryable: true };
  assert.deepEqual(judge(timedOut, { resultOk: null }), timedOut);
  const diagnosis = { category: 'auth' as const, message: 'no', status: 401 };
  assert.deepEqual(judge(exit1, { diagnosis }, true), exit1);
});
