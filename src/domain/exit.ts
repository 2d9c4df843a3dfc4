import { plainTail } from './plain-text.js';

/**
 * What ended a run, classified for the error summary and the retry policy.
 * Pure: the facts come in, a verdict comes out.
 */
export type ExitFacts =
  | { kind: 'exit'; code: number | null; signal: string | null }
  | { kind: 'not_installed'; command: string; agent: string }
  | { kind: 'spawn_error'; message: string }
  | { kind: 'timed_out'; afterMs: number }
  | { kind: 'idle'; afterMs: number }
  | { kind: 'lost'; reason: string }
  | { kind: 'lease_lost' }
  | { kind: 'budget'; reason: string }
  | { kind: 'api_error'; reason: string }
  | {
      kind: 'agent_error';
      /** The agent's name in config, and its CLI with the version that ran ("claude 2.1.330"). */
      agent: string;
      cli: string;
      category: AgentErrorCategory;
      /** What the provider or CLI said, one plain line. */
      message: string;
      status: number | null;
    }
  | { kind: 'no_result'; agent: string; cli: string; unparsedLines: number };

/** Mirrors the adapters' error categories (agents/events.ts): the domain imports nothing. */
export type AgentErrorCategory = 'auth' | 'auth_expired' | 'config' | 'usage' | 'budget';

export interface ExitVerdict {
  /** One line for the card and the run list. */
  reason: string;
  /** Whether another attempt can help. A missing binary will be missing next time too. */
  retryable: boolean;
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

export function classifyExit(f: ExitFacts): ExitVerdict {
  switch (f.kind) {
    case 'not_installed':
      return {
        reason: `agent CLI \`${f.command}\` is not installed: install it or set agents.${f.agent}.command`,
        retryable: false,
      };
    case 'spawn_error':
      return { reason: `could not start the agent: ${f.message}`, retryable: false };
    case 'timed_out':
      return {
        reason: `timed out after ${formatDuration(f.afterMs)} (wall-clock timeout)`,
        retryable: true,
      };
    case 'idle':
      return {
        reason: `no output for ${formatDuration(f.afterMs)} (idle_timeout): killed`,
        retryable: true,
      };
    case 'lost':
      return { reason: `lost: ${f.reason}`, retryable: true };
    case 'lease_lost':
      return { reason: 'lease lost: another worker took the run over', retryable: true };
    case 'budget':
      return { reason: `budget exceeded: ${f.reason}`, retryable: false };
    case 'api_error':
      return { reason: f.reason, retryable: false };
    case 'agent_error':
      return { reason: agentErrorSentence(f), retryable: false };
    case 'no_result':
      return {
        reason:
          f.unparsedLines > 0
            ? `no final result from ${f.cli}: output not recognised (${f.unparsedLines} unparsed ${f.unparsedLines === 1 ? 'line' : 'lines'}) — is this CLI version supported? Check agents.${f.agent}.args and \`agentboard validate\``
            : `no final result from ${f.cli}: it exited 0 without reporting one — is this CLI version supported? Check agents.${f.agent}.args and \`agentboard validate\``,
        retryable: false,
      };
    case 'exit':
      return classifyCode(f.code, f.signal);
  }
}

/** One sentence: which agent, what the provider or CLI said, and what to do. */
function agentErrorSentence(f: Extract<ExitFacts, { kind: 'agent_error' }>): string {
  const said = `${f.status ? `${f.status}: ` : ''}${f.message}`;
  const who = `${f.agent} (${f.cli})`;
  switch (f.category) {
    case 'auth':
      return `${who}: the provider rejected the API key (${said}); set a valid key in agents.${f.agent}.token or token_file, then retry`;
    case 'auth_expired':
      return `${who}: the API key or login has expired (${said}); renew it, update agents.${f.agent}.token or token_file, then retry`;
    case 'config':
      return `${who}: the CLI's own configuration is incomplete (${said}); fix its settings (agentboard validate names them), then retry`;
    case 'usage':
      return `${who}: the CLI refused its command line (${said}); check agents.${f.agent}.args against this CLI version`;
    case 'budget':
      return `${who}: stopped at its own budget or turn limit (${said}); raise the limit or split the task`;
  }
}

function classifyCode(code: number | null, signal: string | null): ExitVerdict {
  const effective = code ?? (signal ? 128 + (SIGNAL_NUMBERS[signal] ?? 0) : null);
  switch (effective) {
    case 0:
      return { reason: 'exit 0', retryable: false };
    case 126:
      return { reason: 'exit 126: the agent command is not executable', retryable: false };
    case 127:
      return {
        reason: 'exit 127: command not found (is the agent CLI installed and on PATH?)',
        retryable: false,
      };
    case 137:
      return {
        reason: 'exit 137: killed (SIGKILL): out of memory, or force-stopped',
        retryable: true,
      };
    case 143:
      return { reason: 'exit 143: terminated (SIGTERM)', retryable: true };
    case null:
      return { reason: 'ended without an exit status', retryable: true };
    default:
      return {
        reason: signal ? `killed by ${signal}` : `exit ${effective}`,
        retryable: true,
      };
  }
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  const m = Math.round(s / 60);
  if (m < 120) return `${m}m`;
  return `${Math.round(m / 60)}h`;
}

/** The error summary stored on a run: the classified exit, then the tail of stderr. */
export function errorSummary(verdict: ExitVerdict, stderrTail: string): string {
  const tail = plainTail(stderrTail);
  return tail ? `${verdict.reason}\n${tail}` : verdict.reason;
}
