import { agentCommand } from '../config/schema.js';
import { ConfigError } from '../domain/errors.js';
import { plainLine } from '../domain/plain-text.js';
import type { AgentAdapter, ExitDiagnosis, Invocation } from './adapter.js';
import { bypassesPermissions } from './approval-hooks.js';
import { globSafeHome, homeInsideCwd, refuseUnprotected } from './board-files.js';
import { approvalToolMissing, claudeApprovalArgs } from './claude-approvals.js';
import { checkedSessionId } from './cli-failures.js';
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

/**
 * Claude Code: `claude -p --output-format stream-json --verbose` (stream-json
 * with -p requires --verbose). The prompt goes on stdin.
 *
 * Budget: `--max-budget-usd` is checked after each API request, so a run goes
 * past it by at most the request that crossed it (2.1.330: a $0.0001 budget
 * stopped after the first request, $0.0498, before running its tool call).
 *
 * Board files: with the home inside the cwd, a `--settings` deny rule
 * `Edit(//<home>/**)` keeps its file tools and shell redirections out of it.
 */
export const claudeAdapter: AgentAdapter = {
  kind: 'claude',
  tokenEnv: 'ANTHROPIC_API_KEY',
  testedVersions: { min: '2.0.0', max: '2.1.330' },
  versionArgs: ['--version'],
  buildInvocation(ctx): Invocation {
    const { name, agent, resumeSessionId, token, isRoot, env, maxCostUsd } = ctx;
    const argv = [agentCommand(agent), '-p', '--output-format', 'stream-json', '--verbose'];
    const mode = agent.permission_mode;
    const bypass = bypassesPermissions(agent);
    if (bypass && isRoot && env.IS_SANDBOX !== '1' && agent.env.IS_SANDBOX !== '1') {
      // Claude Code itself exits at once in this case: say why before spawning it.
      throw new ConfigError(
        `agents.${name}: Claude Code refuses --dangerously-skip-permissions (and bypassPermissions) as root; run agentboard as another user, or set IS_SANDBOX=1 (agents.${name}.env) if this machine is a sandbox`,
      );
    }
    if (mode === 'dangerously-skip-permissions') argv.push('--dangerously-skip-permissions');
    else if (mode) argv.push('--permission-mode', mode);
    if (agent.model) argv.push('--model', agent.model);
    // One argument: the id can never be taken for a flag of its own.
    if (resumeSessionId) argv.push(`--resume=${checkedSessionId('Claude Code', resumeSessionId)}`);
    if (maxCostUsd !== null) argv.push('--max-budget-usd', String(maxCostUsd));
    const homes = homeInsideCwd(ctx.cwd, ctx.boardHome);
    if (homes) {
      // Seen on 2.1.330: the rule stops Write/Edit and redirections into the home, in every
      // mode; it cannot stop a program the shell runs (`node -e`), which bypassPermissions and
      // auto mode allow unasked.
      if (bypass || mode === 'auto')
        refuseUnprotected(
          ctx,
          `Claude Code runs any command unasked in ${mode ?? 'bypassPermissions'} mode`,
        );
      const deny = homes.map((h) => `Edit(/${globSafeHome(name, 'Claude Code', h)}/**)`);
      argv.push('--settings', JSON.stringify({ permissions: { deny } }));
    }
    argv.push(...claudeApprovalArgs(name, agent), ...agent.args);
    return { argv, env: token ? { ANTHROPIC_API_KEY: token } : {}, stdin: 'prompt' };
  },
  parser: claudeParser,
  diagnoseExit: claudeDiagnoseExit,
};

interface Figures {
  in: number;
  out: number;
  cacheRead: number;
  cacheWrite: number;
}

/** What the parser carries between lines; `snapshot()` returns it as JSON. */
interface ClaudeState {
  /** Assistant message ids whose usage was emitted (one message spans several lines). */
  messages: string[];
  /** The per-request usage emitted so far: the result's run total is reconciled with it. */
  emitted: Figures;
  /** Inputs of tool calls not answered yet, for the denial events. */
  pending: Record<string, unknown>;
  /** Tool use ids already reported as denied. */
  denied: string[];
}

const zero = (): Figures => ({ in: 0, out: 0, cacheRead: 0, cacheWrite: 0 });

function restore(saved: unknown): ClaudeState {
  const s = obj(saved) ?? {};
  const e = obj(s.emitted) ?? {};
  return {
    messages: arr(s.messages).filter((m): m is string => typeof m === 'string'),
    emitted: {
      in: num(e.in) ?? 0,
      out: num(e.out) ?? 0,
      cacheRead: num(e.cacheRead) ?? 0,
      cacheWrite: num(e.cacheWrite) ?? 0,
    },
    pending: { ...(obj(s.pending) ?? {}) },
    denied: arr(s.denied).filter((m): m is string => typeof m === 'string'),
  };
}

/**
 * Usage and cost, as verified on Claude Code 2.1.330 against the scripted
 * server (test/fixtures/recorded/claude/resume, budget):
 * - each `assistant` line carries its API request's `message.usage`, as of the
 *   response's start: input and cache figures are right, `output_tokens` is
 *   the start's placeholder (1). Lines of one message repeat it.
 * - `result.usage` is this run's own total (a resumed run reports only its own
 *   requests), but it is all zeros when the CLI stopped on its budget.
 * - `result.model_usage_since_last_result` is this run's own total per model,
 *   with its cost (`costUSD`), budget stop included.
 * - `result.modelUsage` and `total_cost_usd` are the whole session's running
 *   totals: a resumed run reports the earlier runs' cost again.
 *
 * So: one `usage` event (scope `run`) per API request as it streams (deduped
 * by message id), for live budget checks; at the result, one more `run` event
 * with what the run's own total adds to them (the output tokens, mostly), so
 * the sum is exactly the run's total and the cumulative token figures are
 * never emitted. Cost: the run's own `costUSD` sum (scope `run`) when the CLI
 * gives it, else `total_cost_usd` with scope `session` (the engine subtracts
 * the session's earlier total).
 */
export function claudeParser(saved?: unknown): TranscriptParser {
  const s = restore(saved);
  const inner = jsonLinesParser((o): AgentEvent[] | null => {
    switch (o.type) {
      case 'system':
        return system(o, s);
      case 'assistant':
        return assistant(o, s);
      case 'user':
        return toolResults(o, s);
      case 'result':
        return result(o, s);
      default:
        return null;
    }
  });
  return {
    line: (text) => inner.line(text),
    end: () => inner.end(),
    snapshot: () => JSON.parse(JSON.stringify(s)) as unknown,
  };
}

function denial(s: ClaudeState, id: string, tool: string, input: unknown, message: string) {
  if (s.denied.includes(id)) return [];
  s.denied.push(id);
  return [
    {
      type: 'denial' as const,
      id,
      tool,
      input: input ?? s.pending[id] ?? null,
      message: plainLine(message),
    },
  ];
}

function system(o: Record<string, unknown>, s: ClaudeState): AgentEvent[] | null {
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
  // 2.1.330: `{"type":"system","subtype":"permission_denied","tool_name","tool_use_id","message"}`,
  // before the tool_result that tells the model.
  if (o.subtype === 'permission_denied') {
    const id = str(o.tool_use_id) ?? '';
    return denial(s, id, str(o.tool_name) ?? 'tool', undefined, str(o.message) ?? 'denied');
  }
  return null;
}

function assistant(o: Record<string, unknown>, s: ClaudeState): AgentEvent[] {
  const message = obj(o.message);
  // An API error Claude Code shows as a made-up assistant message: the result says it again.
  if (o.is_api_error_message === true || message?.model === '<synthetic>') return [];
  const out: AgentEvent[] = [];
  for (const block of arr(message?.content)) {
    const b = obj(block);
    if (!b) continue;
    if (b.type === 'text' && str(b.text))
      out.push({ type: 'message', text: str(b.text) as string });
    else if (b.type === 'thinking')
      out.push({ type: 'thinking', text: str(b.thinking) ?? str(b.text) ?? '' });
    else if (b.type === 'tool_use') {
      const name = str(b.name) ?? 'tool';
      const id = str(b.id) ?? '';
      s.pending[id] = b.input ?? null;
      out.push({ type: 'tool_call', id, name, kind: toolKind(name), input: b.input ?? null });
    } else out.push({ type: 'raw', data: b });
  }
  const id = str(message?.id);
  const u = obj(message?.usage);
  if (id && u && !s.messages.includes(id)) {
    s.messages.push(id);
    const f: Figures = {
      in: num(u.input_tokens) ?? 0,
      out: num(u.output_tokens) ?? 0,
      cacheRead: num(u.cache_read_input_tokens) ?? 0,
      cacheWrite: num(u.cache_creation_input_tokens) ?? 0,
    };
    s.emitted = add(s.emitted, f);
    out.push(usageEvent(f));
  }
  return out;
}

const DENIED_TEXT = /requested permissions to use (.+?), but you haven't granted it yet/;

function toolResults(o: Record<string, unknown>, s: ClaudeState): AgentEvent[] | null {
  const out: AgentEvent[] = [];
  for (const block of arr(obj(o.message)?.content)) {
    const b = obj(block);
    if (b?.type !== 'tool_result') continue;
    const id = str(b.tool_use_id) ?? '';
    const output = textOf(b.content);
    // Older versions say so only in the tool result.
    const m = b.is_error === true ? DENIED_TEXT.exec(output) : null;
    if (m) out.push(...denial(s, id, m[1] as string, undefined, output));
    delete s.pending[id];
    out.push({ type: 'tool_result', id, status: b.is_error === true ? 'error' : 'ok', output });
  }
  return out.length > 0 ? out : null;
}

function add(a: Figures, b: Figures): Figures {
  return {
    in: a.in + b.in,
    out: a.out + b.out,
    cacheRead: a.cacheRead + b.cacheRead,
    cacheWrite: a.cacheWrite + b.cacheWrite,
  };
}

function usageEvent(f: Figures): AgentEvent {
  return {
    type: 'usage',
    tokensIn: f.in,
    tokensOut: f.out,
    cacheRead: f.cacheRead,
    cacheWrite: f.cacheWrite,
    scope: 'run',
  };
}

/** This run's own total: `model_usage_since_last_result`, else `result.usage`. */
function runTotal(o: Record<string, unknown>): { figures: Figures; cost: number | null } | null {
  const since = obj(o.model_usage_since_last_result);
  if (since && Object.keys(since).length > 0) {
    let figures = zero();
    let cost: number | null = null;
    for (const v of Object.values(since)) {
      const m = obj(v) ?? {};
      figures = add(figures, {
        in: num(m.inputTokens) ?? 0,
        out: num(m.outputTokens) ?? 0,
        cacheRead: num(m.cacheReadInputTokens) ?? 0,
        cacheWrite: num(m.cacheCreationInputTokens) ?? 0,
      });
      const c = num(m.costUSD);
      if (c !== undefined) cost = (cost ?? 0) + c;
    }
    return { figures, cost };
  }
  const u = obj(o.usage);
  if (!u) return null;
  return {
    figures: {
      in: num(u.input_tokens) ?? 0,
      out: num(u.output_tokens) ?? 0,
      cacheRead: num(u.cache_read_input_tokens) ?? 0,
      cacheWrite: num(u.cache_creation_input_tokens) ?? 0,
    },
    cost: null,
  };
}

/** Anthropic's words for an expired credential ("OAuth token has expired", "Login expired"). */
const EXPIRED = /\bexpired\b/i;

function errorCategory(o: Record<string, unknown>, text: string): ErrorCategory | undefined {
  const subtype = str(o.subtype);
  if (subtype === 'error_max_budget_usd' || subtype === 'error_max_turns') return 'budget';
  const status = num(o.api_error_status);
  const type = str(o.api_error_type);
  if (
    status === 401 ||
    status === 403 ||
    type === 'authentication_error' ||
    type === 'permission_error' ||
    /Invalid API key|Failed to authenticate|OAuth token (has expired|revoked)|Please run \/login/i.test(
      text,
    )
  )
    return EXPIRED.test(text) ? 'auth_expired' : 'auth';
  return undefined;
}

function result(o: Record<string, unknown>, s: ClaudeState): AgentEvent[] {
  const out: AgentEvent[] = [];
  const total = runTotal(o);
  if (!total && s.messages.length === 0) out.push(usageEvent(zero()));
  if (total) {
    const f = total.figures;
    const extra: Figures = {
      in: Math.max(0, f.in - s.emitted.in),
      out: Math.max(0, f.out - s.emitted.out),
      cacheRead: Math.max(0, f.cacheRead - s.emitted.cacheRead),
      cacheWrite: Math.max(0, f.cacheWrite - s.emitted.cacheWrite),
    };
    // Always one usage event at the result (zeros included), so a run has its figures.
    if (extra.in + extra.out + extra.cacheRead + extra.cacheWrite > 0 || s.messages.length === 0) {
      s.emitted = add(s.emitted, extra);
      out.push(usageEvent(extra));
    }
  }
  if (total?.cost !== null && total?.cost !== undefined)
    out.push({ type: 'cost', usd: total.cost, source: 'reported', scope: 'run' });
  else {
    const cost = num(o.total_cost_usd);
    if (cost !== undefined)
      out.push({ type: 'cost', usd: cost, source: 'reported', scope: 'session' });
  }
  for (const d of arr(o.permission_denials)) {
    const p = obj(d);
    if (!p) continue;
    const tool = str(p.tool_name) ?? 'tool';
    out.push(
      ...denial(
        s,
        str(p.tool_use_id) ?? '',
        tool,
        p.tool_input,
        `Claude requested permissions to use ${tool}, but you haven't granted it yet.`,
      ),
    );
  }
  const subtype = str(o.subtype) ?? 'success';
  const isError = o.is_error === true || subtype !== 'success';
  const errors = arr(o.errors).filter((e): e is string => typeof e === 'string');
  const text =
    str(o.result) ??
    (isError ? (errors.length > 0 ? errors.join('; ') : `Claude Code ended with ${subtype}`) : '');
  if (isError) {
    const category = errorCategory(o, text);
    const status = num(o.api_error_status);
    out.push({
      type: 'error',
      message: plainLine(text) || `Claude Code ended with ${subtype}`,
      ...(status ? { status } : {}),
      fatal: true,
      ...(category ? { category } : {}),
    });
  }
  out.push({ type: 'result', ok: !isError, text, sessionId: str(o.session_id) ?? null });
  return out;
}

/**
 * Exits the stream did not explain. Claude Code 2.1.330 refuses an unknown
 * option with "error: unknown option '--x'" on stderr and exit 1 (not 2).
 */
export function claudeDiagnoseExit(exit: {
  code: number | null;
  stderrTail: string;
}): ExitDiagnosis | null {
  if (exit.code === 0 || exit.code === null) return null;
  const tail = exit.stderrTail;
  const line = (re: RegExp) => plainLine(tail.split(/\r?\n/).find((l) => re.test(l)) ?? tail);
  if (/error: (unknown option|too many arguments|option .* argument missing)/i.test(tail))
    return { category: 'usage', message: line(/error:/i) };
  if (/Invalid API key|authentication_error|OAuth token|Please run \/login|\b401\b/i.test(tail)) {
    const message = line(/Invalid API key|authentication|OAuth|login|401/i);
    return { category: EXPIRED.test(message) ? 'auth_expired' : 'auth', message };
  }
  if (/cannot be used with root\/sudo privileges/i.test(tail))
    return { category: 'config', message: line(/root\/sudo/i) };
  const noApprovalTool = approvalToolMissing(tail);
  if (noApprovalTool) return noApprovalTool;
  if (exit.code === 2) return { category: 'usage', message: plainLine(tail) || 'usage error' };
  return null;
}
