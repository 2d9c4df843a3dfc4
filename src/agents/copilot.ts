import { agentCommand } from '../config/schema.js';
import { ConfigError } from '../domain/errors.js';
import { plainLine } from '../domain/plain-text.js';
import type { AgentAdapter, ExitDiagnosis, Invocation } from './adapter.js';
import { authCategory, checkedSessionId, commonExitDiagnosis } from './cli-failures.js';
import {
  type AgentEvent,
  arr,
  type ErrorCategory,
  jsonLinesParser,
  num,
  obj,
  str,
  type TranscriptParser,
  toolKind,
} from './events.js';

/**
 * GitHub Copilot CLI: `copilot --output-format json`, the prompt on stdin, resume with
 * `--resume=<sessionId>`. With its own provider settings (`COPILOT_OFFLINE=true`,
 * `COPILOT_PROVIDER_BASE_URL`, `COPILOT_PROVIDER_TYPE`, `COPILOT_PROVIDER_API_KEY`, `COPILOT_MODEL`)
 * it needs no GitHub login.
 *
 * Seen with 1.0.102:
 * - no token counts or cost in this output (the final `result` has only `premiumRequests`);
 * - every failed model call is a `model.call_failure` (status, the provider's body) printed when it
 *   fails, before the CLI waits (it honours retry-after) and retries (`assistant.turn_retry`);
 * - a 401 is retried twice, then a `session.error` with `errorType: "authentication"`; exit 1;
 * - without `--allow-all-tools`, a tool use is denied: `tool.execution_complete` with
 *   `error.code: "denied"`, and the run goes on;
 * - an unknown flag: "error: unexpected argument '…' found" on stderr, exit 1.
 * `permission_mode`: `allow-all-tools` → `--allow-all-tools`; `allow-all` or `yolo` → `--allow-all`
 * (tools, paths and URLs); anything else: its defaults (tool uses that need approval are denied).
 */
export const copilotAdapter: AgentAdapter = {
  kind: 'copilot',
  tokenEnv: 'COPILOT_PROVIDER_API_KEY',
  testedVersions: { min: '1.0.102', max: '1.0.102' },
  versionArgs: ['--version'],
  buildInvocation({ name, agent, resumeSessionId, token }): Invocation {
    const argv = [agentCommand(agent), '--output-format', 'json'];
    const mode = agent.permission_mode;
    if (mode === 'allow-all-tools') argv.push('--allow-all-tools');
    else if (mode === 'allow-all' || mode === 'yolo') argv.push('--allow-all');
    else if (mode !== undefined && mode !== 'default')
      throw new ConfigError(
        `agents.${name}.permission_mode: Copilot CLI takes allow-all-tools, allow-all, yolo or default; got "${mode}"`,
      );
    if (agent.model) argv.push(`--model=${agent.model}`);
    if (resumeSessionId) {
      checkedSessionId('Copilot', resumeSessionId);
      argv.push(`--resume=${resumeSessionId}`);
    }
    argv.push(...agent.args);
    return { argv, env: token ? { COPILOT_PROVIDER_API_KEY: token } : {}, stdin: 'prompt' };
  },
  parser: copilotParser,
  diagnoseExit: (exit): ExitDiagnosis | null => commonExitDiagnosis(exit),
};

interface CopilotState {
  sessionId: string | null;
  calls: string[];
  /** Tool call id → name and input, until the tool completes (for denials). */
  pending: Record<string, { name: string; input: unknown }>;
  /** The last assistant message: the final one is the run's result. */
  text: string;
  /** The provider's own words of the last failed model call. */
  lastFailure: string | null;
  failed: { message: string } | null;
  done: boolean;
}

const MAX_REMEMBERED = 500;

/** Events that carry nothing for the transcript (deltas, telemetry, UI state). */
const QUIET = new Set([
  'session.skills_loaded',
  'session.mcp_servers_loaded',
  'session.tools_updated',
  'session.background_tasks_changed',
  'session.info',
  'session.idle',
  'user.message',
  'assistant.turn_start',
  'assistant.turn_end',
  'assistant.turn_retry',
  'assistant.message_start',
  'assistant.message_delta',
  'assistant.reasoning_delta',
  'assistant.streaming_delta',
  'assistant.tool_call_delta',
  'assistant.idle',
  'model.call_start',
  'model.call_finished',
  'model.call_final_result',
  'tool.shell_output',
  'tool.execution_partial_result',
  'tool.execution_progress',
]);

/** The message in a provider error body (`{"message": …}` or `{"error": {"message": …}}`), else the text. */
function providerWords(body: string | undefined): string | null {
  if (!body) return null;
  try {
    const o = obj(JSON.parse(body));
    const m = str(o?.message) ?? str(obj(o?.error)?.message);
    if (m) return plainLine(m);
  } catch {}
  return plainLine(body);
}

export function copilotParser(saved?: unknown): TranscriptParser {
  const s = obj(saved);
  const failed = obj(s?.failed);
  const state: CopilotState = {
    sessionId: str(s?.sessionId) ?? null,
    calls: arr(s?.calls).filter((x): x is string => typeof x === 'string'),
    pending: (obj(s?.pending) as CopilotState['pending'] | undefined) ?? {},
    text: str(s?.text) ?? '',
    lastFailure: str(s?.lastFailure) ?? null,
    failed: failed ? { message: str(failed.message) ?? '' } : null,
    done: s?.done === true,
  };

  const call = (id: string, name: string, input: unknown): AgentEvent[] => {
    if (state.calls.includes(id)) return [];
    state.calls.push(id);
    if (state.calls.length > MAX_REMEMBERED) state.calls.shift();
    state.pending[id] = { name, input };
    return [{ type: 'tool_call', id, name, kind: toolKind(name), input }];
  };

  const inner = jsonLinesParser((o): AgentEvent[] | null => {
    const type = str(o.type) ?? '';
    if (QUIET.has(type)) return [];
    const data = obj(o.data) ?? {};
    switch (type) {
      case 'assistant.message': {
        const out: AgentEvent[] = [];
        const text = str(data.content) ?? '';
        if (text) {
          out.push({ type: 'message', text });
          state.text = text;
        }
        for (const r of arr(data.toolRequests)) {
          const req = obj(r);
          const id = str(req?.toolCallId);
          if (!req || !id) continue;
          out.push(...call(id, str(req.name) ?? 'tool', req.arguments ?? null));
        }
        return out;
      }
      case 'assistant.reasoning':
        return [{ type: 'thinking', text: str(data.content) ?? '' }];
      case 'tool.execution_start': {
        const id = str(data.toolCallId) ?? '';
        return call(id, str(data.toolName) ?? 'tool', data.arguments ?? null);
      }
      case 'tool.execution_complete': {
        const id = str(data.toolCallId) ?? '';
        const known = state.pending[id];
        delete state.pending[id];
        const err = obj(data.error);
        if (data.success === true) {
          const result = obj(data.result);
          return [
            {
              type: 'tool_result',
              id,
              status: 'ok',
              output: str(result?.content) ?? str(result?.detailedContent) ?? '',
            },
          ];
        }
        const message = str(err?.message) ?? 'tool failed';
        const out: AgentEvent[] = [];
        if (err?.code === 'denied')
          out.push({
            type: 'denial',
            id,
            tool: known?.name ?? str(data.toolName) ?? 'tool',
            input: known?.input ?? null,
            message: plainLine(message),
          });
        out.push({ type: 'tool_result', id, status: 'error', output: message });
        return out;
      }
      case 'model.call_failure': {
        // Printed as the call fails, before the CLI waits and retries (or gives up).
        const status = num(data.statusCode) ?? null;
        const words =
          providerWords(str(data.errorMessage)) ?? `model call failed (${status ?? 'no status'})`;
        state.lastFailure = words;
        return [
          {
            type: 'retry',
            attempt: (num(data.retryAttempt) ?? 0) + 1,
            maxRetries: null,
            delayMs: null,
            status,
            message: words,
          },
        ];
      }
      case 'session.error': {
        const status = num(data.statusCode);
        const errorType = str(data.errorType) ?? '';
        const own = plainLine(str(data.message) ?? 'Copilot CLI error');
        // The provider's own words when a failed call carried them ("Incorrect API key…").
        const message = state.lastFailure && status !== undefined ? state.lastFailure : own;
        let category: ErrorCategory | null = authCategory(status, `${message} ${own}`);
        if (!category && (errorType === 'authentication' || errorType === 'authorization'))
          category = /expired/i.test(`${message} ${own}`) ? 'auth_expired' : 'auth';
        state.failed = { message };
        return [
          {
            type: 'error',
            message,
            ...(status === undefined ? {} : { status }),
            fatal: true,
            ...(category ? { category } : {}),
          },
        ];
      }
      case 'session.warning':
        return [];
      case 'result': {
        const out: AgentEvent[] = [];
        const sid = str(o.sessionId);
        if (sid && sid !== state.sessionId) {
          state.sessionId = sid;
          out.push({ type: 'session', sessionId: sid });
        }
        if (state.done) return out;
        state.done = true;
        const code = num(o.exitCode) ?? 0;
        const ok = code === 0 && state.failed === null;
        out.push({
          type: 'result',
          ok,
          text: ok ? state.text : (state.failed?.message ?? `Copilot CLI exited ${code}`),
          sessionId: state.sessionId,
        });
        return out;
      }
      default:
        return null;
    }
  });
  return {
    ...inner,
    snapshot: () => ({
      ...state,
      calls: [...state.calls],
      pending: { ...state.pending },
    }),
  };
}
