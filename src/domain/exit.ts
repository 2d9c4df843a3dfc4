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
  | { kind: 'api_error'; reason: string };

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
    case 'exit':
      return classifyCode(f.code, f.signal);
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
  const tail = stderrTail.trim();
  return tail ? `${verdict.reason}\n${tail}` : verdict.reason;
}
