import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentCommand } from '../config/schema.js';
import { ConfigError } from '../domain/errors.js';
import { plainLine } from '../domain/plain-text.js';
import type { AgentAdapter, ExitDiagnosis, Invocation } from './adapter.js';
import { globSafeHome, homeInsideCwd, refuseUnprotected } from './board-files.js';
import { authCategory, checkedSessionId, commonExitDiagnosis, UUID } from './cli-failures.js';
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
 * - no token counts or cost in this output (the final `result` has only `premiumRequests`): the
 *   usage is read after exit from the session's events.jsonl ({@link copilotUsageAfterExit});
 * - every failed model call is a `model.call_failure` (status, the provider's body) printed when it
 *   fails, before the CLI waits (it honours retry-after) and retries (`assistant.turn_retry`);
 * - a 401 is retried twice, then a `session.error` with `errorType: "authentication"`; exit 1;
 * - without `--allow-all-tools`, a tool use is denied: `tool.execution_complete` with
 *   `error.code: "denied"`, and the run goes on;
 * - an unknown flag: "error: unexpected argument '…' found" on stderr, exit 1.
 * `permission_mode`: `allow-all-tools` → `--allow-all-tools`; `allow-all` or `yolo` → `--allow-all`
 * (tools, paths and URLs); anything else: its defaults (tool uses that need approval are denied).
 * Board files: with the home inside the cwd, `--deny-tool=write(<home>/**)` (deny rules beat
 * --allow-all-tools; seen refusing `create` in the home). Write rules do not cover the shell, which
 * the allow-all modes run unasked: those are refused there.
 */
export const copilotAdapter: AgentAdapter = {
  kind: 'copilot',
  tokenEnv: 'COPILOT_PROVIDER_API_KEY',
  testedVersions: { min: '1.0.102', max: '1.0.102' },
  versionArgs: ['--version'],
  buildInvocation(ctx): Invocation {
    const { name, agent, resumeSessionId, token } = ctx;
    const argv = [agentCommand(agent), '--output-format', 'json'];
    const mode = agent.permission_mode;
    const homes = homeInsideCwd(ctx.cwd, ctx.boardHome);
    if (homes && (mode === 'allow-all-tools' || mode === 'allow-all' || mode === 'yolo'))
      refuseUnprotected(ctx, `Copilot CLI runs shell commands unasked in ${mode} mode`);
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
    for (const h of homes ?? [])
      argv.push(`--deny-tool=write(${globSafeHome(name, 'Copilot CLI', h)}/**)`);
    argv.push(...agent.args);
    return { argv, env: token ? { COPILOT_PROVIDER_API_KEY: token } : {}, stdin: 'prompt' };
  },
  parser: copilotParser,
  diagnoseExit: (exit): ExitDiagnosis | null => commonExitDiagnosis(exit),
  usageAfterExit: ({ sessionId, env }) =>
    copilotUsageAfterExit(sessionId, env.HOME ?? '', env.COPILOT_HOME),
};

/**
 * Copilot CLI keeps its usage out of `--output-format json` but writes it to
 * `<copilot home>/session-state/<sessionId>/events.jsonl` (1.0.102): the copilot home is
 * `$COPILOT_HOME` when set, else `$HOME/.copilot` (XDG_STATE_HOME / XDG_CONFIG_HOME only name an
 * old location it migrates from). Never throws: no file, no usage.
 */
export function copilotUsageAfterExit(
  sessionId: string,
  home: string,
  copilotHome: string | undefined = process.env.COPILOT_HOME,
): AgentEvent[] {
  try {
    // The id comes from the agent's output: it only names a directory if it is a session id.
    if (!UUID.test(sessionId)) return [];
    const dirs = [copilotHome, home ? join(home, '.copilot') : undefined].filter(
      (d): d is string => !!d,
    );
    for (const dir of dirs) {
      const file = join(dir, 'session-state', sessionId, 'events.jsonl');
      if (existsSync(file)) return copilotSessionUsage(readFileSync(file, 'utf8'));
    }
  } catch {}
  return [];
}

interface TokenCounts {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

function countsOf(v: unknown): TokenCounts | null {
  const u = obj(v);
  if (!u) return null;
  return {
    inputTokens: num(u.inputTokens) ?? 0,
    outputTokens: num(u.outputTokens) ?? 0,
    cacheReadTokens: num(u.cacheReadTokens) ?? 0,
    cacheWriteTokens: num(u.cacheWriteTokens) ?? 0,
  };
}

function usageEvent(c: TokenCounts, scope: 'run' | 'session'): AgentEvent {
  // `inputTokens` counts cached input too (uncached + cache read + cache write).
  return {
    type: 'usage',
    tokensIn: Math.max(0, c.inputTokens - c.cacheReadTokens - c.cacheWriteTokens),
    tokensOut: c.outputTokens,
    cacheRead: c.cacheReadTokens,
    cacheWrite: c.cacheWriteTokens,
    scope,
  };
}

/**
 * The last run's usage in a Copilot session's events.jsonl (1.0.102). One file per session: a
 * resumed run appends to it (`session.resume`), and each run's `session.shutdown` holds the
 * whole session's totals (`modelMetrics[model].usage`). Each model request has its own
 * `session.usage_record`, so the records after the last `session.start`/`session.resume` are this
 * run's own (scope `run`), even when it was killed before its shutdown. Without any, the last
 * shutdown's totals (scope `session`). No cost: for a custom provider it is 0, and otherwise it
 * counts premium requests, not dollars.
 */
export function copilotSessionUsage(text: string): AgentEvent[] {
  let records: TokenCounts[] = [];
  let totals: TokenCounts | null = null;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    let e: Record<string, unknown> | undefined;
    try {
      e = obj(JSON.parse(t));
    } catch {
      continue;
    }
    const data = obj(e?.data);
    switch (e?.type) {
      case 'session.start':
      case 'session.resume':
        records = [];
        totals = null;
        break;
      case 'session.usage_record': {
        const c = countsOf(obj(data?.usage));
        if (c) records.push(c);
        break;
      }
      case 'session.shutdown': {
        const sum: TokenCounts = {
          inputTokens: 0,
          outputTokens: 0,
          cacheReadTokens: 0,
          cacheWriteTokens: 0,
        };
        for (const m of Object.values(obj(data?.modelMetrics) ?? {})) {
          const c = countsOf(obj(m)?.usage);
          if (!c) continue;
          sum.inputTokens += c.inputTokens;
          sum.outputTokens += c.outputTokens;
          sum.cacheReadTokens += c.cacheReadTokens;
          sum.cacheWriteTokens += c.cacheWriteTokens;
        }
        totals = sum;
        break;
      }
    }
  }
  if (records.length > 0) {
    const sum = records.reduce((a, c) => ({
      inputTokens: a.inputTokens + c.inputTokens,
      outputTokens: a.outputTokens + c.outputTokens,
      cacheReadTokens: a.cacheReadTokens + c.cacheReadTokens,
      cacheWriteTokens: a.cacheWriteTokens + c.cacheWriteTokens,
    }));
    return [usageEvent(sum, 'run')];
  }
  return totals ? [usageEvent(totals, 'session')] : [];
}

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
        const authType = errorType === 'authentication' || errorType === 'authorization';
        // The provider's own words when a failed call carried them ("Your API key has
        // expired…"): the CLI's own message only says "Authentication failed … (HTTP 401)".
        const message =
          state.lastFailure && (status !== undefined || authType) ? state.lastFailure : own;
        let category: ErrorCategory | null = authCategory(status, message);
        if (!category && (authType || status === 401 || status === 403))
          category = authCategory(401, message) ?? 'auth';
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
