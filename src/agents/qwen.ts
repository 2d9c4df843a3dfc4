import { agentCommand } from '../config/schema.js';
import { ConfigError } from '../domain/errors.js';
import { plainLine } from '../domain/plain-text.js';
import type { AgentAdapter, ExitDiagnosis, Invocation } from './adapter.js';
import { globSafeHome, homeInsideCwd, refuseUnprotected } from './board-files.js';
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
  textOf,
  toolKind,
} from './events.js';

const APPROVAL_MODES = ['plan', 'default', 'auto-edit', 'auto', 'yolo'];

/**
 * Qwen Code: `qwen -o stream-json`, the prompt on stdin, resume with `--resume=<session_id>`.
 *
 * Its stream is shaped like Claude Code's (`system/init`, `assistant`, `user` tool results, a final
 * `result`), without cost. Seen with 0.21.10 (on Node 20, although it declares node >= 22):
 * - the `result`'s usage is the running total of the whole session (a resumed run's result adds
 *   the earlier runs' tokens, and its own background requests such as memory extraction);
 * - a provider error ends the run with exit 0 and `subtype: "success"`, the text being
 *   "[API Error: 401 …]": that is a failure;
 * - a missing auth type or key is an `error_during_execution` result, also exit 0;
 * - denied tool uses are listed in the result's `permission_denials` (and the tool result says
 *   "… requires permission … declined");
 * - provider retries are silent, except with QWEN_CODE_UNATTENDED_RETRY=1, whose heartbeats go to
 *   stderr ("[qwen-code] Waiting for API capacity... attempt 3, retry in 45s");
 * - `--max-wall-time` / `--max-tool-calls` abort with exit 55; unknown flags exit 1 with
 *   "Unknown arguments: …" on stderr.
 * Board files: with the home inside the cwd, `--exclude-tools=Edit(//<home>/**)` adds a deny rule
 * (its permission manager applies deny rules in every approval mode, yolo included, to its edit and
 * write tools); yolo and auto run shell commands unasked, so they are refused there.
 */
export const qwenAdapter: AgentAdapter = {
  kind: 'qwen',
  tokenEnv: 'OPENAI_API_KEY',
  testedVersions: { min: '0.21.10', max: '0.21.10' },
  versionArgs: ['--version'],
  buildInvocation(ctx): Invocation {
    const { name, agent, resumeSessionId, token } = ctx;
    const argv = [agentCommand(agent), '-o', 'stream-json'];
    const mode = agent.permission_mode;
    const homes = homeInsideCwd(ctx.cwd, ctx.boardHome);
    if (homes && (mode === 'yolo' || mode === 'auto'))
      refuseUnprotected(ctx, `Qwen Code runs shell commands unasked in ${mode} mode`);
    if (mode === 'yolo') argv.push('--yolo');
    else if (mode) {
      if (!APPROVAL_MODES.includes(mode))
        throw new ConfigError(
          `agents.${name}.permission_mode: Qwen Code knows ${APPROVAL_MODES.join(', ')}; got "${mode}"`,
        );
      argv.push(`--approval-mode=${mode}`);
    }
    // A key given to agentboard is an OpenAI-compatible key: say so, unless the args choose.
    if (token && !agent.args.some((a) => a === '--auth-type' || a.startsWith('--auth-type=')))
      argv.push('--auth-type', 'openai');
    if (agent.model) argv.push('-m', agent.model);
    if (resumeSessionId) {
      checkedSessionId('Qwen Code', resumeSessionId);
      argv.push(`--resume=${resumeSessionId}`);
    }
    for (const h of homes ?? [])
      argv.push(`--exclude-tools=Edit(/${globSafeHome(name, 'Qwen Code', h)}/**)`);
    argv.push(...agent.args);
    return { argv, env: token ? { OPENAI_API_KEY: token } : {}, stdin: 'prompt' };
  },
  parser: qwenParser,
  stderrParser: qwenStderrParser,
  diagnoseExit: qwenExit,
};

interface QwenState {
  sessionId: string | null;
  /** Tool calls already emitted (a restored parser emits none twice). */
  calls: string[];
  /** Tool use id → name and input, for the denials the tool results reveal. */
  pending: Record<string, { name: string; input: unknown }>;
  denied: string[];
  done: boolean;
}

const MAX_REMEMBERED = 500;
const DECLINED =
  /requires permission to use .* declined|permission was declined|permission denied/i;
/** "[API Error: 401 Incorrect API key provided…]" (also without the status). */
const API_ERROR = /^\s*\[API Error:\s*(?:(\d{3})\b\s*)?([\s\S]*?)\]?\s*$/;

export function qwenParser(saved?: unknown): TranscriptParser {
  const s = obj(saved);
  const state: QwenState = {
    sessionId: str(s?.sessionId) ?? null,
    calls: arr(s?.calls).filter((x): x is string => typeof x === 'string'),
    pending: (obj(s?.pending) as QwenState['pending'] | undefined) ?? {},
    denied: arr(s?.denied).filter((x): x is string => typeof x === 'string'),
    done: s?.done === true,
  };
  const remember = (list: string[], id: string) => {
    list.push(id);
    if (list.length > MAX_REMEMBERED) list.shift();
  };

  const session = (o: Record<string, unknown>): AgentEvent[] => {
    const sid = str(o.session_id);
    if (!sid || state.sessionId === sid) return [];
    state.sessionId = sid;
    const model = str(o.model);
    const cwd = str(o.cwd);
    return [
      { type: 'session', sessionId: sid, ...(model ? { model } : {}), ...(cwd ? { cwd } : {}) },
    ];
  };

  const assistant = (o: Record<string, unknown>): AgentEvent[] => {
    const out: AgentEvent[] = [];
    for (const block of arr(obj(o.message)?.content)) {
      const b = obj(block);
      if (!b) continue;
      if (b.type === 'text' && str(b.text))
        out.push({ type: 'message', text: str(b.text) as string });
      else if (b.type === 'thinking')
        out.push({ type: 'thinking', text: str(b.thinking) ?? str(b.text) ?? '' });
      else if (b.type === 'tool_use') {
        const id = str(b.id) ?? '';
        const name = str(b.name) ?? 'tool';
        if (id && state.calls.includes(id)) continue;
        if (id) remember(state.calls, id);
        state.pending[id] = { name, input: b.input ?? null };
        out.push({ type: 'tool_call', id, name, kind: toolKind(name), input: b.input ?? null });
      } else out.push({ type: 'raw', data: b });
    }
    return out;
  };

  const denial = (id: string, message: string, tool?: string, input?: unknown): AgentEvent[] => {
    if (state.denied.includes(id)) return [];
    remember(state.denied, id);
    const known = state.pending[id];
    return [
      {
        type: 'denial',
        id,
        tool: tool ?? known?.name ?? 'tool',
        input: input ?? known?.input ?? null,
        message: plainLine(message),
      },
    ];
  };

  const toolResults = (o: Record<string, unknown>): AgentEvent[] | null => {
    const out: AgentEvent[] = [];
    for (const block of arr(obj(o.message)?.content)) {
      const b = obj(block);
      if (b?.type !== 'tool_result') continue;
      const id = str(b.tool_use_id) ?? '';
      const output = textOf(b.content);
      if (b.is_error === true && DECLINED.test(output)) out.push(...denial(id, output));
      out.push({ type: 'tool_result', id, status: b.is_error === true ? 'error' : 'ok', output });
      delete state.pending[id];
    }
    return out.length > 0 ? out : null;
  };

  const result = (o: Record<string, unknown>): AgentEvent[] => {
    const out: AgentEvent[] = session(o);
    const u = obj(o.usage) ?? {};
    // The session's running total, earlier runs of a resumed session included.
    out.push({
      type: 'usage',
      tokensIn: num(u.input_tokens) ?? 0,
      tokensOut: num(u.output_tokens) ?? 0,
      cacheRead: num(u.cache_read_input_tokens) ?? 0,
      cacheWrite: num(u.cache_creation_input_tokens) ?? 0,
      scope: 'session',
    });
    for (const d of arr(o.permission_denials)) {
      const dd = obj(d);
      if (!dd) continue;
      out.push(
        ...denial(
          str(dd.tool_use_id) ?? '',
          `${str(dd.tool_name) ?? 'tool'}: permission declined`,
          str(dd.tool_name),
          dd.tool_input,
        ),
      );
    }
    const subtype = str(o.subtype) ?? 'success';
    const text = str(o.result) ?? '';
    const apiError = API_ERROR.exec(text);
    const errMessage = str(obj(o.error)?.message);
    let failure: { message: string; status?: number; category?: ErrorCategory } | null = null;
    if (text.trimStart().startsWith('[API Error') && apiError) {
      const status = apiError[1] ? Number(apiError[1]) : undefined;
      const message = plainLine(apiError[2] || text);
      const category = authCategory(status, message);
      failure = {
        message,
        ...(status === undefined ? {} : { status }),
        ...(category ? { category } : {}),
      };
    } else if (o.is_error === true || subtype !== 'success') {
      const message = plainLine(errMessage ?? (text || `Qwen Code ended with ${subtype}`));
      const category: ErrorCategory | undefined = subtype.startsWith('error_max_')
        ? 'budget'
        : /no auth type|auth type|missing api key|api key.*(?:not set|missing)/i.test(message)
          ? 'config'
          : (authCategory(undefined, message) ?? undefined);
      failure = { message, ...(category ? { category } : {}) };
    }
    if (failure) out.push({ type: 'error', ...failure, fatal: true });
    if (!state.done) {
      state.done = true;
      out.push({
        type: 'result',
        ok: failure === null,
        text: failure ? failure.message : text,
        sessionId: state.sessionId,
      });
    }
    return out;
  };

  const inner = jsonLinesParser((o): AgentEvent[] | null => {
    switch (o.type) {
      case 'system':
        if (o.subtype === 'init') return session(o);
        return null;
      case 'stream_event':
        // Goal state and partial-message events: nothing for the transcript.
        return [];
      case 'assistant':
        return [...session(o), ...assistant(o)];
      case 'user':
        return toolResults(o);
      case 'result':
        return result(o);
      default:
        return null;
    }
  });
  return {
    ...inner,
    snapshot: () => ({
      sessionId: state.sessionId,
      calls: [...state.calls],
      pending: { ...state.pending },
      denied: [...state.denied],
      done: state.done,
    }),
  };
}

/** Persistent-retry heartbeats (QWEN_CODE_UNATTENDED_RETRY=1), the only retry notices it prints. */
const HEARTBEAT = /Waiting for API capacity\.\.\.\s*attempt (\d+), retry in (\d+)s/;

export function qwenStderrParser(): TranscriptParser {
  return {
    line(text) {
      const m = HEARTBEAT.exec(text);
      if (!m) return [];
      return [
        {
          type: 'retry',
          attempt: Number(m[1]),
          maxRetries: null,
          delayMs: Number(m[2]) * 1000,
          status: null,
          message: plainLine(text.replace(/^\[qwen-code\]\s*/, '')),
        },
      ];
    },
    end: () => [],
  };
}

/** Exit 55: its own --max-wall-time / --max-tool-calls budget; otherwise what stderr says. */
export function qwenExit(exit: { code: number | null; stderrTail: string }): ExitDiagnosis | null {
  if (exit.code === 55) {
    const line = exit.stderrTail
      .split(/\r?\n/)
      .filter((l) => l.trim() !== '')
      .at(-1);
    return {
      category: 'budget',
      message: plainLine(
        line ?? 'Qwen Code stopped on its --max-wall-time or --max-tool-calls limit',
      ),
    };
  }
  return commonExitDiagnosis(exit);
}
