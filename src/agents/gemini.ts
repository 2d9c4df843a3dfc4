import { agentCommand } from '../config/schema.js';
import type { AgentAdapter, Invocation } from './adapter.js';
import {
  type AgentEvent,
  jsonLinesParser,
  num,
  obj,
  str,
  type TranscriptParser,
  toolKind,
} from './events.js';

/**
 * Gemini CLI: `gemini -p <text> --output-format stream-json`. Its -p text is
 * appended to stdin, so the prompt goes on stdin and -p carries a fixed line.
 */
export const geminiAdapter: AgentAdapter = {
  kind: 'gemini',
  tokenEnv: 'GEMINI_API_KEY',
  testedVersions: { min: '0.30.0', max: '0.61.0' },
  versionArgs: ['--version'],
  buildInvocation({ agent, resumeSessionId, token }): Invocation {
    const argv = [agentCommand(agent), '--output-format', 'stream-json'];
    argv.push('--approval-mode', agent.permission_mode ?? 'auto_edit');
    if (agent.model) argv.push('--model', agent.model);
    if (resumeSessionId) argv.push('--resume', resumeSessionId);
    argv.push(...agent.args, '-p', 'Carry out the task above.');
    return { argv, env: token ? { GEMINI_API_KEY: token } : {}, stdin: 'prompt' };
  },
  parser: geminiParser,
};

/**
 * Gemini streams assistant text as small deltas; they are joined into one
 * message per stretch of text (up to the next tool call or the end).
 */
export function geminiParser(): TranscriptParser {
  let sessionId: string | null = null;
  let pending = '';
  let lastText = '';
  const flush = (): AgentEvent[] => {
    if (!pending) return [];
    lastText = pending;
    pending = '';
    return [{ type: 'message', text: lastText }];
  };
  const inner = jsonLinesParser((o): AgentEvent[] | null => {
    switch (o.type) {
      case 'init':
        sessionId = str(o.session_id) ?? null;
        if (!sessionId) return null;
        return [
          {
            type: 'session',
            sessionId,
            ...(str(o.model) ? { model: str(o.model) as string } : {}),
          },
        ];
      case 'message':
        if (o.role === 'assistant') pending += str(o.content) ?? '';
        return [];
      case 'tool_use': {
        const name = str(o.tool_name) ?? 'tool';
        return [
          ...flush(),
          {
            type: 'tool_call',
            id: str(o.tool_id) ?? '',
            name,
            kind: toolKind(name),
            input: o.parameters ?? null,
          },
        ];
      }
      case 'tool_result':
        return [
          ...flush(),
          {
            type: 'tool_result',
            id: str(o.tool_id) ?? '',
            status: o.status === 'error' ? 'error' : 'ok',
            output: str(o.output) ?? str(obj(o.error)?.message) ?? '',
          },
        ];
      case 'error':
        return [
          ...flush(),
          { type: 'error', message: str(o.message) ?? 'error', fatal: o.severity === 'error' },
        ];
      case 'result': {
        const events = flush();
        const stats = obj(o.stats) ?? {};
        const cached = num(stats.cached) ?? 0;
        const ok = o.status === 'success';
        const err = str(obj(o.error)?.message);
        events.push({
          type: 'usage',
          tokensIn: Math.max(0, (num(stats.input_tokens) ?? 0) - cached),
          tokensOut: num(stats.output_tokens) ?? 0,
          cacheRead: cached,
          cacheWrite: 0,
        });
        if (!ok)
          events.push({
            type: 'error',
            message: err ?? 'Gemini CLI ended with an error',
            fatal: true,
          });
        events.push({ type: 'result', ok, text: ok ? lastText : (err ?? 'error'), sessionId });
        return events;
      }
      default:
        return [...flush(), { type: 'raw', data: o }];
    }
  });
  return { line: (text) => inner.line(text), end: () => flush() };
}
