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
 * Codex CLI: `codex exec --json` reads the prompt from stdin when none is
 * given; `codex exec resume <thread-id>` continues a thread. The sandbox mode
 * comes from `permission_mode` (read-only | workspace-write | danger-full-access).
 */
export const codexAdapter: AgentAdapter = {
  kind: 'codex',
  tokenEnv: 'OPENAI_API_KEY',
  testedVersions: { min: '0.100.0', max: '0.169.0' },
  versionArgs: ['--version'],
  buildInvocation({ agent, resumeSessionId, token }): Invocation {
    const argv = [agentCommand(agent), 'exec'];
    if (resumeSessionId) argv.push('resume');
    argv.push('--json', '--skip-git-repo-check');
    const mode = agent.permission_mode ?? 'workspace-write';
    if (mode === 'dangerously-bypass-approvals-and-sandbox') {
      argv.push('--dangerously-bypass-approvals-and-sandbox');
    } else if (resumeSessionId) {
      // `exec resume` has no --sandbox flag; the config key does the same.
      argv.push('-c', `sandbox_mode="${mode}"`);
    } else {
      argv.push('--sandbox', mode);
    }
    if (agent.model) argv.push('--model', agent.model);
    argv.push(...agent.args);
    if (resumeSessionId) argv.push(resumeSessionId);
    argv.push('-');
    return {
      argv,
      env: token ? { OPENAI_API_KEY: token, CODEX_API_KEY: token } : {},
      stdin: 'prompt',
    };
  },
  parser: codexParser,
};

const RECONNECT = /^Reconnecting\.\.\. (\d+)\/(\d+)\s*(?:\((.*)\))?/;

export function codexParser(): TranscriptParser {
  let threadId: string | null = null;
  let lastMessage = '';
  const started = new Set<string>();
  return jsonLinesParser((o): AgentEvent[] | null => {
    switch (o.type) {
      case 'thread.started':
        threadId = str(o.thread_id) ?? null;
        return threadId ? [{ type: 'session', sessionId: threadId }] : null;
      case 'turn.started':
        return [];
      case 'item.started':
      case 'item.updated':
      case 'item.completed': {
        const item = obj(o.item);
        if (!item) return null;
        const events = itemEvents(item, o.type === 'item.completed', started);
        if (item.type === 'agent_message' && o.type === 'item.completed')
          lastMessage = str(item.text) ?? lastMessage;
        return events;
      }
      case 'turn.completed': {
        const u = obj(o.usage) ?? {};
        const cached = num(u.cached_input_tokens) ?? 0;
        return [
          {
            type: 'usage',
            tokensIn: Math.max(0, (num(u.input_tokens) ?? 0) - cached),
            tokensOut: num(u.output_tokens) ?? 0,
            cacheRead: cached,
            cacheWrite: 0,
          },
          { type: 'result', ok: true, text: lastMessage, sessionId: threadId },
        ];
      }
      case 'turn.failed': {
        const message = str(obj(o.error)?.message) ?? 'turn failed';
        return [
          { type: 'error', message, fatal: true },
          { type: 'result', ok: false, text: message, sessionId: threadId },
        ];
      }
      case 'error': {
        const message = str(o.message) ?? 'error';
        const m = RECONNECT.exec(message);
        if (m) {
          return [
            {
              type: 'retry',
              attempt: Number(m[1]),
              maxRetries: Number(m[2]),
              delayMs: null,
              status: httpStatus(message),
              message: m[3] ?? message,
            },
          ];
        }
        return [{ type: 'error', message }];
      }
      default:
        return null;
    }
  });
}

function itemEvents(
  item: Record<string, unknown>,
  completed: boolean,
  started: Set<string>,
): AgentEvent[] | null {
  const id = str(item.id) ?? '';
  const call = (name: string, input: unknown): AgentEvent[] => {
    if (started.has(id)) return [];
    started.add(id);
    return [{ type: 'tool_call', id, name, kind: toolKind(name), input }];
  };
  switch (item.type) {
    case 'agent_message':
      return completed ? [{ type: 'message', text: str(item.text) ?? '' }] : [];
    case 'reasoning':
      return completed ? [{ type: 'thinking', text: str(item.text) ?? '' }] : [];
    case 'command_execution': {
      const events = call('shell', { command: item.command });
      if (!completed) return events;
      const status = item.status === 'failed' || (num(item.exit_code) ?? 0) !== 0 ? 'error' : 'ok';
      return [
        ...events,
        { type: 'tool_result', id, status, output: str(item.aggregated_output) ?? '' },
      ];
    }
    case 'file_change': {
      const events = call('apply_patch', { changes: item.changes });
      if (!completed) return events;
      return [
        ...events,
        { type: 'tool_result', id, status: item.status === 'failed' ? 'error' : 'ok', output: '' },
      ];
    }
    case 'mcp_tool_call': {
      const events = call(
        `${str(item.server) ?? 'mcp'}.${str(item.tool) ?? 'tool'}`,
        item.arguments ?? null,
      );
      if (!completed) return events;
      return [
        ...events,
        {
          type: 'tool_result',
          id,
          status: item.status === 'failed' ? 'error' : 'ok',
          output: JSON.stringify(item.result ?? ''),
        },
      ];
    }
    case 'web_search': {
      const events = call('web_search', { query: item.query });
      return completed
        ? [...events, { type: 'tool_result', id, status: 'ok', output: '' }]
        : events;
    }
    case 'error':
      return completed ? [{ type: 'error', message: str(item.message) ?? 'error' }] : [];
    default:
      return null;
  }
}

/** Codex names the HTTP status in its messages ("unexpected status 401 Unauthorized: ..."). */
function httpStatus(message: string): number | null {
  const m = /\bstatus (\d{3})\b/.exec(message);
  return m ? Number(m[1]) : null;
}
