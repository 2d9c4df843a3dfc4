import { agentCommand } from '../config/schema.js';
import { plainLine } from '../domain/plain-text.js';
import type { AgentAdapter, ExitDiagnosis, Invocation } from './adapter.js';
import { globSafeHome, homeInsideCwd, refuseUnprotected } from './board-files.js';
import { authCategory, checkedSessionId, stderrLines } from './cli-failures.js';
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
 * Codex CLI: `codex exec --json` reads the prompt from stdin when none is
 * given; `codex exec resume <thread-id>` continues a thread. The sandbox mode
 * comes from `permission_mode` (read-only | workspace-write | danger-full-access).
 *
 * Budget: Codex has no budget flag and reports usage only when a turn ends,
 * so a cost limit can only be checked after the turn's work is done.
 * Permissions: `exec` never asks (approval policy `never`); a command the
 * sandbox refuses fails inside it ("Read-only file system", exit 1) and is
 * reported as a denial.
 *
 * Board files: with the home inside the cwd, `workspace-write` becomes a
 * permission profile (Codex >= 0.138) extending the built-in `:workspace`
 * with the home read-only, so the sandbox refuses writes there (a profile
 * replaces `--sandbox`, which would select the legacy policy). A
 * `sandbox_mode` in the user's own config.toml makes Codex ignore profiles.
 */
export const codexAdapter: AgentAdapter = {
  kind: 'codex',
  tokenEnv: 'OPENAI_API_KEY',
  testedVersions: { min: '0.100.0', max: '0.169.0' },
  versionArgs: ['--version'],
  buildInvocation(ctx): Invocation {
    const { name, agent, resumeSessionId, token } = ctx;
    const argv = [agentCommand(agent), 'exec'];
    if (resumeSessionId) argv.push('resume');
    argv.push('--json', '--skip-git-repo-check');
    const mode = agent.permission_mode ?? 'workspace-write';
    const homes = homeInsideCwd(ctx.cwd, ctx.boardHome);
    if (homes && mode !== 'read-only' && mode !== 'workspace-write')
      refuseUnprotected(ctx, `Codex runs without its sandbox in ${mode} mode`);
    if (homes && mode === 'workspace-write') {
      argv.push(...boardFilesProfile(homes.map((h) => globSafeHome(name, 'Codex', h))));
    } else if (mode === 'dangerously-bypass-approvals-and-sandbox') {
      argv.push('--dangerously-bypass-approvals-and-sandbox');
    } else if (resumeSessionId) {
      // `exec resume` has no --sandbox flag; the config key does the same.
      argv.push('-c', `sandbox_mode="${mode}"`);
    } else {
      argv.push('--sandbox', mode);
    }
    if (agent.model) argv.push('--model', agent.model);
    argv.push(...agent.args);
    if (resumeSessionId) argv.push(checkedSessionId('Codex', resumeSessionId));
    argv.push('-');
    return {
      argv,
      env: token ? { OPENAI_API_KEY: token, CODEX_API_KEY: token } : {},
      stdin: 'prompt',
    };
  },
  parser: codexParser,
  diagnoseExit: codexDiagnoseExit,
};

/** `-c` overrides selecting `:workspace` with these paths read-only (JSON strings are TOML strings). */
function boardFilesProfile(homes: string[]): string[] {
  const filesystem = homes.map((h) => `${JSON.stringify(h)}="read"`).join(',');
  return [
    '-c',
    'default_permissions="agentboard"',
    '-c',
    'permissions.agentboard.extends=":workspace"',
    '-c',
    `permissions.agentboard.filesystem={${filesystem}}`,
  ];
}

const RECONNECT = /^Reconnecting\.\.\. (\d+)\/(\d+)\s*(?:\((.*)\))?/;

interface CodexState {
  threadId: string | null;
  lastMessage: string;
  /** Item ids whose tool call was emitted: `item.started` and `item.completed` both carry it. */
  started: string[];
}

function restore(saved: unknown): CodexState {
  const s = obj(saved) ?? {};
  return {
    threadId: str(s.threadId) ?? null,
    lastMessage: str(s.lastMessage) ?? '',
    started: arr(s.started).filter((x): x is string => typeof x === 'string'),
  };
}

/**
 * Codex `exec --json`. Usage, as verified on 0.169.0 with `exec resume`
 * against the scripted server (test/fixtures/recorded/codex/resume): the
 * `turn.completed` usage is the thread's running total (a resumed run
 * reported 29,507 input tokens where its one request had 9,945 and the first
 * run's two 19,562), output tokens included. Codex streams no per-request
 * usage, so it is emitted with scope `session` and the engine subtracts the
 * thread's previous total. It reports no cost.
 *
 * `snapshot()` keeps the thread id, the last message and the tool calls
 * already emitted, so a parser made again mid-run (after a server restart)
 * does not emit the running tool call a second time.
 */
export function codexParser(saved?: unknown): TranscriptParser {
  const s = restore(saved);
  const inner = jsonLinesParser((o): AgentEvent[] | null => {
    switch (o.type) {
      case 'thread.started':
        s.threadId = str(o.thread_id) ?? null;
        return s.threadId ? [{ type: 'session', sessionId: s.threadId }] : null;
      case 'turn.started':
        return [];
      case 'item.started':
      case 'item.updated':
      case 'item.completed': {
        const item = obj(o.item);
        if (!item) return null;
        const events = itemEvents(item, o.type === 'item.completed', s.started);
        if (item.type === 'agent_message' && o.type === 'item.completed')
          s.lastMessage = str(item.text) ?? s.lastMessage;
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
            cacheWrite: num(u.cache_write_input_tokens) ?? 0,
            scope: 'session',
          },
          { type: 'result', ok: true, text: s.lastMessage, sessionId: s.threadId },
        ];
      }
      case 'turn.failed': {
        const raw = str(obj(o.error)?.message) ?? 'turn failed';
        return [
          { ...codexError(raw), fatal: true },
          { type: 'result', ok: false, text: plainLine(raw), sessionId: s.threadId },
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
              message: plainLine(stripUrl(m[3] ?? message)),
            },
          ];
        }
        return [codexError(message)];
      }
      default:
        return null;
    }
  });
  return {
    line: (text) => inner.line(text),
    end: () => inner.end(),
    snapshot: () => ({ ...s, started: [...s.started] }),
  };
}

/** ", url: http://…" closes Codex's HTTP error messages: not the provider's words. */
function stripUrl(message: string): string {
  return message.replace(/,? url: \S+\s*$/, '');
}

/**
 * An error Codex printed, categorised: "unexpected status 401 Unauthorized:
 * Incorrect API key provided…" (auth), "…: Provided authentication token is
 * expired…" (auth_expired).
 */
function codexError(raw: string): Extract<AgentEvent, { type: 'error' }> {
  const status = httpStatus(raw);
  const message = plainLine(stripUrl(raw).replace(/^unexpected status /, '')) || 'error';
  const category = codexAuthCategory(status, message) ?? undefined;
  return {
    type: 'error',
    message,
    ...(status === null ? {} : { status }),
    ...(category ? { category } : {}),
  };
}

/** What a key or login failure looks like in Codex's words or the provider's. */
const AUTH_WORDS =
  /invalid_api_key|Invalid API key|Incorrect API key|token_expired|refresh token|\b(?:key|token|credential|login|session)\b[^.]*\bexpired/i;

/**
 * Whether an error is a refused or an expired credential, from the provider's own words (the
 * URL Codex appends removed): "expired" there makes it `auth_expired`, whichever 4xx it came
 * with (a server error is neither).
 */
function codexAuthCategory(status: number | null, words: string): ErrorCategory | null {
  if (status !== null && status >= 500) return null;
  if (status !== 401 && status !== 403 && !AUTH_WORDS.test(words)) return null;
  return authCategory(status ?? undefined, words) ?? 'auth';
}

/** Sandbox refusals as Codex reports them in a failed command's output. */
const SANDBOX_REFUSAL = /Read-only file system|sandbox denied|rejected by (the )?user/i;

function itemEvents(
  item: Record<string, unknown>,
  completed: boolean,
  started: string[],
): AgentEvent[] | null {
  const id = str(item.id) ?? '';
  const call = (name: string, input: unknown): AgentEvent[] => {
    if (started.includes(id)) return [];
    started.push(id);
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
      const output = str(item.aggregated_output) ?? '';
      const refused = status === 'error' && SANDBOX_REFUSAL.test(output);
      return [
        ...events,
        ...(refused
          ? [
              {
                type: 'denial' as const,
                id,
                tool: 'shell',
                input: { command: item.command },
                message: plainLine(output),
              },
            ]
          : []),
        { type: 'tool_result', id, status, output },
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
      return completed ? [{ type: 'error', message: plainLine(str(item.message) ?? 'error') }] : [];
    default:
      return null;
  }
}

/**
 * Codex names the HTTP status in its messages: "unexpected status 401
 * Unauthorized: …", "exceeded retry limit, last status: 429 Too Many Requests".
 */
function httpStatus(message: string): number | null {
  const m = /\bstatus:? (\d{3})\b/.exec(message);
  return m ? Number(m[1]) : null;
}

/**
 * Exits the stream did not explain: codex 0.169.0 refuses an unknown option
 * with "error: unexpected argument '--x' found" and exit 2.
 */
export function codexDiagnoseExit(exit: {
  code: number | null;
  stderrTail: string;
}): ExitDiagnosis | null {
  if (exit.code === 0 || exit.code === null) return null;
  const { find } = stderrLines(exit.stderrTail);
  const usage = find(
    /^error: (unexpected argument|unrecognized subcommand|invalid value|the argument)/i,
  );
  if (usage) return { category: 'usage', message: plainLine(usage) };
  const auth = find(/Invalid API key|Incorrect API key|401 Unauthorized|token_expired|expired/i);
  const authWords = auth ? plainLine(stripUrl(auth)) : '';
  const category = auth ? codexAuthCategory(httpStatus(auth), authWords) : null;
  if (category) return { category, message: authWords };
  if (exit.code === 2)
    return {
      category: 'usage',
      message: plainLine(find(/error/i) ?? exit.stderrTail) || 'usage error',
    };
  return null;
}
