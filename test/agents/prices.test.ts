import assert from 'node:assert/strict';
import { test } from 'node:test';
import { estimateCostUsd, priceOf } from '../../src/agents/prices.js';

test('priceOf: the longest prefix wins; unknown models and null have no price', () => {
  assert.deepEqual(priceOf('claude-sonnet-4-5'), {
    input: 3,
    output: 15,
    cacheRead: 0.3,
    cacheWrite: 3.75,
  });
  assert.equal(priceOf('gpt-5-mini-2025')?.input, 0.25);
  assert.equal(priceOf('gpt-5.5')?.input, 1.25);
  assert.equal(priceOf('claude-scripted'), null);
  assert.equal(priceOf(''), null);
  assert.equal(priceOf(null), null);
});

test('priceOf: a models/ or provider/ path before the name is ignored', () => {
  const sonnet = priceOf('claude-sonnet-4-5');
  assert.deepEqual(priceOf('anthropic/claude-sonnet-4-5'), sonnet);
  // opencode's custom provider id, as in its `provider/model` names.
  assert.deepEqual(priceOf('local/claude-sonnet-4-5'), sonnet);
  assert.deepEqual(priceOf('openrouter/anthropic/Claude-Sonnet-4-5'), sonnet);
  assert.deepEqual(priceOf('models/gemini-2.5-flash'), priceOf('gemini-2.5-flash'));
  assert.equal(priceOf('local/claude-scripted'), null);
  assert.equal(priceOf('local/'), null);
});

test('estimateCostUsd: per-million prices of each kind of token, null without a price', () => {
  const usd = estimateCostUsd('local/claude-sonnet-4-5', {
    tokensIn: 1_000_000,
    tokensOut: 100_000,
    cacheRead: 1_000_000,
    cacheWrite: 0,
  });
  assert.ok(usd !== null && Math.abs(usd - (3 + 1.5 + 0.3)) < 1e-9);
  assert.equal(
    estimateCostUsd('local/claude-scripted', {
      tokensIn: 1,
      tokensOut: 1,
      cacheRead: 0,
      cacheWrite: 0,
    }),
    null,
  );
});
