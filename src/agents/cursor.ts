import { agentCommand } from '../config/schema.js';
import type { AgentAdapter, Invocation } from './adapter.js';
import { homeInsideCwd, refuseUnprotected } from './board-files.js';
import { claudeParser } from './claude.js';
import { checkedSessionId } from './cli-failures.js';
import { type AgentEvent, obj, str, type TranscriptParser, toolKind } from './events.js';

/**
 * Cursor's agent CLI: `cursor-agent -p --output-format stream-json`. Its
 * stream is Claude-shaped, plus `tool_call` events (started/completed).
 * Board files: it has no known rule to keep out of a folder, so a home inside the cwd is refused.
 */
export const cursorAdapter: AgentAdapter = {
  kind: 'cursor',
  tokenEnv: 'CURSOR_API_KEY',
  testedVersions: { min: '2025.1.0', max: '2025.12.31' },
  versionArgs: ['--version'],
  buildInvocation(ctx): Invocation {
    const { agent, resumeSessionId, token } = ctx;
    if (homeInsideCwd(ctx.cwd, ctx.boardHome))
      refuseUnprotected(ctx, 'Cursor takes no rule to keep out of a folder');
    const argv = [agentCommand(agent), '-p', '--output-format', 'stream-json'];
    if (agent.permission_mode === 'force') argv.push('--force');
    if (agent.model) argv.push('--model', agent.model);
    if (resumeSessionId) argv.push('--resume', checkedSessionId('Cursor Agent', resumeSessionId));
    argv.push(...agent.args);
    return { argv, env: token ? { CURSOR_API_KEY: token } : {}, stdin: 'prompt' };
  },
  parser: cursorParser,
};

export function cursorParser(): TranscriptParser {
  const base = claudeParser();
  return {
    line(text) {
      const events = base.line(text);
      if (events.length !== 1 || events[0]?.type !== 'raw') return events;
      const o = obj((events[0] as { data: unknown }).data);
      if (o?.type !== 'tool_call') return events;
      const id = str(o.call_id) ?? '';
      const call = obj(o.tool_call) ?? {};
      const [key, body] = Object.entries(call)[0] ?? ['tool', {}];
      const name = key.replace(/ToolCall$/, '');
      const b = obj(body) ?? {};
      if (o.subtype === 'started') {
        return [{ type: 'tool_call', id, name, kind: toolKind(name), input: b.args ?? null }];
      }
      const result = obj(b.result) ?? {};
      const failed = result.failure !== undefined || result.error !== undefined;
      const out: AgentEvent = {
        type: 'tool_result',
        id,
        status: failed ? 'error' : 'ok',
        output: JSON.stringify(result.success ?? result.failure ?? result.error ?? result),
      };
      return [out];
    },
    end: () => base.end(),
  };
}
