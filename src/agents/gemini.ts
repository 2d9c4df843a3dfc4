import { agentCommand } from '../config/schema.js';
import { plainLine } from '../domain/plain-text.js';
import type { AgentAdapter, ExitDiagnosis, Invocation } from './adapter.js';
import { homeInsideCwd, refuseUnprotected } from './board-files.js';
import { checkedSessionId, stderrLines } from './cli-failures.js';
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
 * Gemini CLI: `gemini -p <text> --output-format stream-json`. Its -p text is
 * appended to stdin, so the prompt goes on stdin and -p carries a fixed line.
 *
 * Budget: no budget flag; usage comes only with the final `result`, so a
 * cost limit can only be checked once the work is done.
 * Permissions: headless without `yolo`, the tools that need approval (the
 * shell, file writes) are not registered at all; a call to one ends in a
 * `tool_not_registered` error, reported as a denial.
 * Exit codes (0.61.0): 41 when no auth method is selected; an API error
 * exits with its HTTP status mod 256 (401 → 145, 400 → 144, 500 → 244).
 * Board files: its path rules live only in policy files, not on its command line; so with the home
 * inside the cwd, the modes that write unasked (auto_edit, yolo) are refused.
 */
export const geminiAdapter: AgentAdapter = {
  kind: 'gemini',
  tokenEnv: 'GEMINI_API_KEY',
  testedVersions: { min: '0.30.0', max: '0.61.0' },
  versionArgs: ['--version'],
  buildInvocation(ctx): Invocation {
    const { agent, resumeSessionId, token } = ctx;
    const argv = [agentCommand(agent), '--output-format', 'stream-json'];
    const mode = agent.permission_mode ?? 'auto_edit';
    if ((mode === 'auto_edit' || mode === 'yolo') && homeInsideCwd(ctx.cwd, ctx.boardHome))
      refuseUnprotected(
        ctx,
        `Gemini CLI writes files unasked in ${mode} mode and takes no rule to keep out of a folder`,
      );
    argv.push('--approval-mode', mode);
    if (agent.model) argv.push('--model', agent.model);
    // One argument: the id can never be taken for a flag of its own.
    if (resumeSessionId) argv.push(`--resume=${checkedSessionId('Gemini CLI', resumeSessionId)}`);
    argv.push(...agent.args, '-p', 'Carry out the task above.');
    return { argv, env: token ? { GEMINI_API_KEY: token } : {}, stdin: 'prompt' };
  },
  parser: geminiParser,
  stderrParser: geminiStderrParser,
  diagnoseExit: geminiDiagnoseExit,
};

interface ApiError {
  message: string;
  status?: number;
  category?: ErrorCategory;
}

/**
 * Gemini CLI shows an API error as `[API Error: {"error":{...}}]` (the
 * response body) or `_ApiError: {...}`: the provider's own message is
 * inside. Google answers an expired key with a 400 whose reason is
 * `API_KEY_INVALID` ("API key expired. Please renew the API key.").
 */
export function geminiApiError(text: string): ApiError {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  let body: Record<string, unknown> | undefined;
  if (start >= 0 && end > start) {
    try {
      body = obj(obj(JSON.parse(text.slice(start, end + 1)))?.error);
    } catch {
      body = undefined;
    }
  }
  const message = plainLine(
    str(body?.message) ?? text.replace(/^\[API Error: /, '').replace(/\]$/, ''),
  );
  const status = num(body?.code);
  const reasons = arr(body?.details).map((d) => str(obj(d)?.reason));
  const named = str(body?.status);
  let category: ErrorCategory | undefined;
  if (
    status === 401 ||
    status === 403 ||
    named === 'UNAUTHENTICATED' ||
    named === 'PERMISSION_DENIED' ||
    reasons.includes('API_KEY_INVALID') ||
    /API key (not valid|expired)/i.test(message)
  )
    category = /expired/i.test(message) ? 'auth_expired' : 'auth';
  return {
    message: message || 'Gemini API error',
    ...(status === undefined ? {} : { status }),
    ...(category ? { category } : {}),
  };
}

/** Built-in tools that need approval: headless without yolo they are not registered. */
const APPROVAL_TOOLS = new Set(['run_shell_command', 'write_file', 'replace', 'edit', 'web_fetch']);

/**
 * Gemini streams assistant text as small deltas; they are joined into one
 * message per stretch of text (up to the next tool call or the end).
 */
export function geminiParser(saved?: unknown): TranscriptParser {
  const restored = obj(saved) ?? {};
  let sessionId: string | null = str(restored.sessionId) ?? null;
  let pending = str(restored.pending) ?? '';
  let lastText = str(restored.lastText) ?? '';
  // Tool names by id, for denials (a tool_result names only the id).
  const tools: Record<string, { name: string; input: unknown }> = {};
  for (const [k, v] of Object.entries(obj(restored.tools) ?? {})) {
    const t = obj(v);
    if (t) tools[k] = { name: str(t.name) ?? 'tool', input: t.input ?? null };
  }
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
        tools[str(o.tool_id) ?? ''] = { name, input: o.parameters ?? null };
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
      case 'tool_result': {
        const id = str(o.tool_id) ?? '';
        const tool = tools[id];
        delete tools[id];
        const output = str(o.output) ?? str(obj(o.error)?.message) ?? '';
        const errorType = str(obj(o.error)?.type);
        // 0.61.0, --approval-mode default: `"error":{"type":"tool_not_registered",…}` for the shell.
        const denied =
          o.status === 'error' &&
          (errorType === 'policy_violation' ||
            errorType === 'permission_denied' ||
            (errorType === 'tool_not_registered' && APPROVAL_TOOLS.has(tool?.name ?? '')));
        return [
          ...flush(),
          ...(denied
            ? [
                {
                  type: 'denial' as const,
                  id,
                  tool: tool?.name ?? 'tool',
                  input: tool?.input ?? null,
                  message: plainLine(
                    errorType === 'tool_not_registered'
                      ? `${output} (not available without approval in headless mode)`
                      : output,
                  ),
                },
              ]
            : []),
          {
            type: 'tool_result',
            id,
            status: o.status === 'error' ? 'error' : 'ok',
            output,
          },
        ];
      }
      case 'error': {
        const e = geminiApiError(str(o.message) ?? 'error');
        return [
          ...flush(),
          {
            type: 'error',
            message: e.message,
            ...(e.status === undefined ? {} : { status: e.status }),
            ...(e.category ? { category: e.category } : {}),
            fatal: o.severity === 'error',
          },
        ];
      }
      case 'result': {
        const events = flush();
        const stats = obj(o.stats) ?? {};
        const cached = num(stats.cached) ?? 0;
        const ok = o.status === 'success';
        const raw = str(obj(o.error)?.message);
        // 0.61.0: `stats` is this run's own (a resumed run reports only its requests).
        events.push({
          type: 'usage',
          tokensIn: Math.max(0, (num(stats.input_tokens) ?? 0) - cached),
          tokensOut: num(stats.output_tokens) ?? 0,
          cacheRead: cached,
          cacheWrite: 0,
          scope: 'run',
        });
        const e = raw ? geminiApiError(raw) : { message: 'Gemini CLI ended with an error' };
        if (!ok)
          events.push({
            type: 'error',
            message: e.message,
            ...(e.status === undefined ? {} : { status: e.status }),
            ...(e.category ? { category: e.category } : {}),
            fatal: true,
          });
        events.push({ type: 'result', ok, text: ok ? lastText : e.message, sessionId });
        return events;
      }
      default:
        return [...flush(), { type: 'raw', data: o }];
    }
  });
  return {
    line: (text) => inner.line(text),
    end: () => flush(),
    snapshot: () => ({ sessionId, pending, lastText, tools: { ...tools } }),
  };
}

/**
 * Gemini CLI prints its retry notices only to stderr (0.61.0):
 * "Attempt 1 failed with status 429. Retrying with backoff... _ApiError: {…}"
 * followed by a stack trace, or "Attempt 2 failed: <message>. Retrying after
 * 5123ms..." when the server said how long to wait. A 429 whose body carries
 * a RetryInfo delay spans two lines, without the status:
 * "Attempt 1 failed: Resource has been exhausted (e.g. check quota)." then
 * "Suggested retry after 2s.. Retrying after 5976ms...". The number of
 * attempts (`general.maxAttempts`, 10 by default) is not printed.
 */
export function geminiStderrParser(): TranscriptParser {
  const NOTICE =
    /^Attempt (\d+) failed(?: with status (\d{3})| with (429|5xx) error[^.]*)?(?:: (.*?))?\. Retrying (?:with backoff|after (\d+)ms)\.\.\.\s*(.*)$/;
  // The first line of a notice whose message goes on over more lines.
  const OPENING = /^Attempt (\d+) failed(?: with status (\d{3}))?: (.+)$/;
  // Its last line: the rest of the message, then what the CLI does about it.
  const CLOSING =
    /(?:\. Retrying (?:with backoff|after (\d+)ms)\.\.\.|\. Max attempts reached)\s*$/;
  const MAX_OPEN_LINES = 5;
  // A notice opened on an earlier line: stderr is re-read from its start after a restart.
  let open: { attempt: number; status: number | null; message: string; lines: number } | null =
    null;
  const retry = (
    attempt: number,
    status: number | null,
    delayMs: number | null,
    message: string,
  ): AgentEvent => ({
    type: 'retry',
    attempt,
    maxRetries: null,
    delayMs,
    status: status ?? statusOfQuotaMessage(message),
    message: message || `HTTP ${status ?? 'error'}`,
  });
  return {
    line(text) {
      const line = text.trim();
      const m = NOTICE.exec(line);
      if (m) {
        open = null;
        const status = m[2] ? Number(m[2]) : m[3] === '429' ? 429 : null;
        const detail = m[6] || m[4] || '';
        return [
          retry(
            Number(m[1]),
            status,
            m[5] ? Number(m[5]) : null,
            detail ? geminiApiError(detail).message : '',
          ),
        ];
      }
      const o = OPENING.exec(line);
      if (o) {
        // "Attempt n failed: …. Max attempts reached" on one line: the end, not a retry.
        open = CLOSING.test(line)
          ? null
          : {
              attempt: Number(o[1]),
              status: o[2] ? Number(o[2]) : null,
              message: plainLine(o[3] ?? ''),
              lines: 0,
            };
        return [];
      }
      if (!open) return [];
      const c = CLOSING.exec(line);
      if (!c) {
        open.lines++;
        if (open.lines >= MAX_OPEN_LINES) open = null;
        return [];
      }
      const notice = open;
      open = null;
      // "Max attempts reached": the CLI gives up, no retry.
      if (!/Retrying/.test(c[0])) return [];
      return [retry(notice.attempt, notice.status, c[1] ? Number(c[1]) : null, notice.message)];
    },
    end: () => [],
  };
}

/** The status of a quota notice that does not print it (a RetryableQuotaError is a 429 or 503). */
function statusOfQuotaMessage(message: string): number | null {
  if (
    /RESOURCE_EXHAUSTED|resource has been exhausted|\b429\b|too many requests|rate.?limit|quota/i.test(
      message,
    )
  )
    return 429;
  if (/UNAVAILABLE|overloaded|\b503\b/i.test(message)) return 503;
  return null;
}

/**
 * Exits the stream did not explain: exit 41 with "Invalid auth method
 * selected." when settings.json names no auth type; an API error's exit
 * (its status mod 256) when the CLI died before its result; yargs' usage
 * errors ("Unknown arguments: …", exit 1).
 */
export function geminiDiagnoseExit(exit: {
  code: number | null;
  stderrTail: string;
}): ExitDiagnosis | null {
  if (exit.code === 0 || exit.code === null) return null;
  const { find } = stderrLines(exit.stderrTail);
  if (exit.code === 41) {
    const said = find(/auth/i) ?? 'Invalid auth method selected.';
    return {
      category: 'config',
      message: plainLine(
        `${said} (set security.auth.selectedType, e.g. "gemini-api-key", in ~/.gemini/settings.json)`,
      ),
    };
  }
  const usage = find(
    /^(Unknown arguments?|Not enough arguments|Invalid values?|Missing required argument)/,
  );
  if (usage) return { category: 'usage', message: plainLine(usage) };
  const api = find(/_ApiError|\[API Error|API key/);
  if (api) {
    const e = geminiApiError(api);
    if (e.category) return { category: e.category, message: e.message };
  }
  // 401 → 145, 403 → 147: the status, mod 256.
  if (exit.code === 145 || exit.code === 147)
    return {
      category: 'auth',
      message: plainLine(api ?? `the API refused the key (HTTP ${exit.code === 145 ? 401 : 403})`),
    };
  if (find(/Invalid API key/i)) return { category: 'auth', message: 'Invalid API key' };
  return null;
}
