import { agentCommand } from '../config/schema.js';
import { ConfigError } from '../domain/errors.js';
import type { AgentAdapter, Invocation } from './adapter.js';
import {
  type AgentEvent,
  arr,
  jsonLinesParser,
  num,
  obj,
  str,
  type TranscriptParser,
  textOf,
  toolKind,
} from './events.js';

/**
 * Claude Code: `claude -p --output-format stream-json --verbose` (stream-json
 * with -p requires --verbose). The prompt goes on stdin.
 */
export const claudeAdapter: AgentAdapter = {
  kind: 'claude',
  tokenEnv: 'ANTHROPIC_API_KEY',
  testedVersions: { min: '2.0.0', max: '2.1.330' },
  versionArgs: ['--version'],
  buildInvocation({ name, agent, resumeSessionId, token, isRoot, env, maxCostUsd }): Invocation {
    const argv = [agentCommand(agent), '-p', '--output-format', 'stream-json', '--verbose'];
    const mode = agent.permission_mode;
    const bypass =
      mode === 'dangerously-skip-permissions' ||
      mode === 'bypassPermissions' ||
      agent.args.includes('--dangerously-skip-permissions') ||
      agent.args.join(' ').includes('--permission-mode bypassPermissions');
    if (bypass && isRoot && env.IS_SANDBOX !== '1' && agent.env.IS_SANDBOX !== '1') {
      // Claude Code itself exits at once in this case: say why before spawning it.
      throw new ConfigError(
        `agents.${name}: Claude Code refuses --dangerously-skip-permissions (and bypassPermissions) as root; run agentboard as another user, or set IS_SANDBOX=1 (agents.${name}.env) if this machine is a sandbox`,
      );
    }
    if (mode === 'dangerously-skip-permissions') argv.push('--dangerously-skip-permissions');
    else if (mode) argv.push('--permission-mode', mode);
    if (agent.model) argv.push('--model', agent.model);
    if (resumeSessionId) argv.push('--resume', resumeSessionId);
    if (maxCostUsd !== null) argv.push('--max-budget-usd', String(maxCostUsd));
    argv.push(...agent.args);
    return { argv, env: token ? { ANTHROPIC_API_KEY: token } : {}, stdin: 'prompt' };
  },
  parser: claudeParser,
};

export function claudeParser(): TranscriptParser {
  return jsonLinesParser((o): AgentEvent[] | null => {
    switch (o.type) {
      case 'system':
        return system(o);
      case 'assistant':
        return assistant(o);
      case 'user':
        return toolResults(o);
      case 'result':
        return result(o);
      default:
        return null;
    }
  });
}

function system(o: Record<string, unknown>): AgentEvent[] | null {
  if (o.subtype === 'init') {
    const sessionId = str(o.session_id);
    if (!sessionId) return null;
    const model = str(o.model);
    const cwd = str(o.cwd);
    return [{ type: 'session', sessionId, ...(model ? { model } : {}), ...(cwd ? { cwd } : {}) }];
  }
  if (o.subtype === 'api_retry') {
    const status = num(o.error_status) ?? null;
    return [
      {
        type: 'retry',
        attempt: num(o.attempt) ?? 0,
        maxRetries: num(o.max_retries) ?? null,
        delayMs:
          num(o.retry_delay_ms) === undefined ? null : Math.round(num(o.retry_delay_ms) as number),
        status,
        message: str(o.error) ?? 'model API error',
      },
    ];
  }
  return null;
}

function assistant(o: Record<string, unknown>): AgentEvent[] {
  const out: AgentEvent[] = [];
  for (const block of arr(obj(o.message)?.content)) {
    const b = obj(block);
    if (!b) continue;
    if (b.type === 'text' && str(b.text))
      out.push({ type: 'message', text: str(b.text) as string });
    else if (b.type === 'thinking')
      out.push({ type: 'thinking', text: str(b.thinking) ?? str(b.text) ?? '' });
    else if (b.type === 'tool_use') {
      const name = str(b.name) ?? 'tool';
      out.push({
        type: 'tool_call',
        id: str(b.id) ?? '',
        name,
        kind: toolKind(name),
        input: b.input ?? null,
      });
    } else out.push({ type: 'raw', data: b });
  }
  return out;
}

function toolResults(o: Record<string, unknown>): AgentEvent[] | null {
  const out: AgentEvent[] = [];
  for (const block of arr(obj(o.message)?.content)) {
    const b = obj(block);
    if (b?.type !== 'tool_result') continue;
    out.push({
      type: 'tool_result',
      id: str(b.tool_use_id) ?? '',
      status: b.is_error === true ? 'error' : 'ok',
      output: textOf(b.content),
    });
  }
  return out.length > 0 ? out : null;
}

function result(o: Record<string, unknown>): AgentEvent[] {
  const u = obj(o.usage) ?? {};
  const out: AgentEvent[] = [
    {
      type: 'usage',
      tokensIn: num(u.input_tokens) ?? 0,
      tokensOut: num(u.output_tokens) ?? 0,
      cacheRead: num(u.cache_read_input_tokens) ?? 0,
      cacheWrite: num(u.cache_creation_input_tokens) ?? 0,
    },
  ];
  const cost = num(o.total_cost_usd);
  if (cost !== undefined) out.push({ type: 'cost', usd: cost, source: 'reported' });
  const isError = o.is_error === true || (str(o.subtype) ?? 'success') !== 'success';
  const text =
    str(o.result) ?? (isError ? `Claude Code ended with ${str(o.subtype) ?? 'an error'}` : '');
  if (isError)
    out.push({
      type: 'error',
      message: text,
      ...(num(o.api_error_status) ? { status: num(o.api_error_status) as number } : {}),
      fatal: true,
    });
  out.push({ type: 'result', ok: !isError, text, sessionId: str(o.session_id) ?? null });
  return out;
}
