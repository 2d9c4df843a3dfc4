/**
 * List prices in USD per million tokens, for estimating the cost of CLIs that
 * report only tokens. Matched by model-name prefix, longest first.
 * A cost computed from this table is always labelled "estimated".
 */
interface Price {
  input: number;
  output: number;
  cacheRead: number;
  cacheWrite: number;
}

const PRICES: [prefix: string, price: Price][] = [
  ['claude-opus-4', { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 }],
  ['claude-sonnet-4', { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 }],
  ['claude-haiku-4', { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 }],
  ['claude-3-5-haiku', { input: 0.8, output: 4, cacheRead: 0.08, cacheWrite: 1 }],
  ['gpt-5-codex', { input: 1.25, output: 10, cacheRead: 0.125, cacheWrite: 0 }],
  ['gpt-5-mini', { input: 0.25, output: 2, cacheRead: 0.025, cacheWrite: 0 }],
  ['gpt-5', { input: 1.25, output: 10, cacheRead: 0.125, cacheWrite: 0 }],
  ['gpt-4.1', { input: 2, output: 8, cacheRead: 0.5, cacheWrite: 0 }],
  ['o3', { input: 2, output: 8, cacheRead: 0.5, cacheWrite: 0 }],
  ['gemini-2.5-pro', { input: 1.25, output: 10, cacheRead: 0.31, cacheWrite: 0 }],
  ['gemini-2.5-flash', { input: 0.3, output: 2.5, cacheRead: 0.075, cacheWrite: 0 }],
  ['gemini-3-pro', { input: 2, output: 12, cacheRead: 0.2, cacheWrite: 0 }],
];

/**
 * The list price of a model. A path before the name is not part of it: Gemini's `models/`, a
 * provider's `anthropic/` or `local/` (opencode), a router's `openrouter/anthropic/`.
 */
export function priceOf(model: string | null): Price | null {
  if (!model) return null;
  const lower = model.trim().toLowerCase();
  const m = lower.slice(lower.lastIndexOf('/') + 1);
  let best: [string, Price] | null = null;
  for (const entry of PRICES) {
    if (m.startsWith(entry[0]) && (!best || entry[0].length > best[0].length)) best = entry;
  }
  return best?.[1] ?? null;
}

export function estimateCostUsd(
  model: string | null,
  t: { tokensIn: number; tokensOut: number; cacheRead: number; cacheWrite: number },
): number | null {
  const p = priceOf(model);
  if (!p) return null;
  return (
    (t.tokensIn * p.input +
      t.tokensOut * p.output +
      t.cacheRead * p.cacheRead +
      t.cacheWrite * p.cacheWrite) /
    1e6
  );
}
