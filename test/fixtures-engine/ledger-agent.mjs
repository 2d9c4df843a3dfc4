// A fixture agent (not a test): appends "start" and "end" lines with a
// sub-millisecond wall-clock timestamp to a shared ledger, sleeping in
// between, so a test can compute how many runs overlapped.
// Usage: node ledger-agent.mjs <ledger-file> <sleep-ms>
import { appendFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const [ledger, ms] = process.argv.slice(2);
if (!ledger || !ms) {
  // Run by mistake (e.g. picked up by a test runner): do nothing.
  process.exit(0);
}
const now = () => (performance.timeOrigin + performance.now()).toFixed(3);
const who = `${process.env.AGENTBOARD_AGENT} ${process.env.AGENTBOARD_TASK_ID}`;
appendFileSync(ledger, `start ${who} ${now()}\n`);
await sleep(Number(ms));
appendFileSync(ledger, `end ${who} ${now()}\n`);
