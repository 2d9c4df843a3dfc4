/**
 * A scripted stand-in for Claude Code, for the web board's browser tests:
 * it prints Claude's stream-json (thinking, a message, a tool call and its
 * result, then progress lines), coloured lines on stderr, and exits with the
 * code the test chose.
 *
 * The plan is a JSON file named by SCRIPTED_AGENT_PLAN, read at start:
 * { "<task id or default>": { "lines": n, "delayMs": ms, "exit": code } }.
 * Arguments (Claude's flags) are ignored; the prompt on stdin is not read.
 */
import fs from 'node:fs';

const plans = JSON.parse(fs.readFileSync(process.env.SCRIPTED_AGENT_PLAN ?? '', 'utf8'));
const task = process.env.AGENTBOARD_TASK_ID ?? 'default';
const plan = { lines: 5, delayMs: 200, exit: 0, ...plans.default, ...plans[task] };
const session = `sess-${task}-${process.pid}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const out = (obj) => process.stdout.write(`${JSON.stringify(obj)}\n`);
const assistant = (content) =>
  out({
    type: 'assistant',
    session_id: session,
    message: {
      role: 'assistant',
      model: 'scripted-1',
      content,
      usage: { input_tokens: 100, output_tokens: 10 },
    },
  });

out({
  type: 'system',
  subtype: 'init',
  session_id: session,
  model: 'scripted-1',
  cwd: process.cwd(),
});
assistant([{ type: 'thinking', thinking: `Planning how to work on ${task}.` }]);
assistant([{ type: 'text', text: `Working on **${task}** now.` }]);
assistant([{ type: 'tool_use', id: 'tool-1', name: 'Bash', input: { command: 'ls -la' } }]);
out({
  type: 'user',
  session_id: session,
  message: {
    role: 'user',
    content: [
      { type: 'tool_result', tool_use_id: 'tool-1', content: 'README.md\nsrc', is_error: false },
    ],
  },
});
for (const [name, content] of Object.entries(plan.write ?? {})) fs.writeFileSync(name, content);
for (let i = 1; i <= plan.lines; i++) {
  await sleep(plan.delayMs);
  assistant([{ type: 'text', text: `progress ${i} of ${plan.lines}` }]);
  process.stderr.write(`\u001b[32minfo\u001b[0m step ${i} \u001b[1;33mdone\u001b[0m\n`);
}
if (plan.exit !== 0) {
  process.stderr.write(
    `\u001b[31mfatal:\u001b[0m scripted failure of ${task} (exit ${plan.exit})\n`,
  );
  out({
    type: 'result',
    subtype: 'error_during_execution',
    is_error: true,
    session_id: session,
    result: 'scripted failure',
    total_cost_usd: 0.01,
  });
} else {
  out({
    type: 'result',
    subtype: 'success',
    is_error: false,
    session_id: session,
    result: 'All done.',
    total_cost_usd: 0.02,
    usage: { input_tokens: 200, output_tokens: 20 },
  });
}
process.exit(plan.exit);
