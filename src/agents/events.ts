import type { ApprovalState } from '../contract/vocabulary.js';

/**
 * The normalized transcript: what every adapter's parser turns its CLI's
 * output into, and what is stored per run (so history is never re-parsed).
 */
export const TOOL_KINDS = ['command', 'file_edit', 'file_read', 'search', 'web', 'other'] as const;
export type ToolKind = (typeof TOOL_KINDS)[number];

export type AgentEvent =
  | { type: 'session'; sessionId: string; model?: string; cwd?: string }
  | { type: 'message'; text: string }
  | { type: 'thinking'; text: string }
  | { type: 'tool_call'; id: string; name: string; kind: ToolKind; input: unknown }
  | { type: 'tool_result'; id: string; status: 'ok' | 'error'; output: string }
  | {
      type: 'error';
      message: string;
      status?: number;
      fatal?: boolean;
      /** What kind of failure, when the adapter recognised it: decides retry and wording. */
      category?: ErrorCategory;
    }
  /** A tool use the agent was not allowed to make (its CLI's permission rules refused it). */
  | { type: 'denial'; id: string; tool: string; input: unknown; message: string }
  /** A tool use put to a person on the board, or its decision (written by the engine, not parsed). */
  | {
      type: 'approval';
      approvalId: number;
      toolUseId: string | null;
      tool: string;
      state: ApprovalState;
      by: string | null;
      message: string | null;
    }
  | {
      type: 'retry';
      attempt: number;
      maxRetries: number | null;
      delayMs: number | null;
      status: number | null;
      message: string;
    }
  | {
      type: 'usage';
      tokensIn: number;
      tokensOut: number;
      cacheRead: number;
      cacheWrite: number;
      /** `session`: a running total for the whole (resumed) session; default `run`: this run's own, added up. */
      scope?: UsageScope;
    }
  | { type: 'cost'; usd: number; source: 'reported' | 'estimated'; scope?: UsageScope }
  | { type: 'result'; ok: boolean; text: string; sessionId: string | null }
  | { type: 'raw'; data: unknown }
  | { type: 'parse_warning'; message: string; line: string };

export type AgentEventType = AgentEvent['type'];

/**
 * A failure the adapter recognised. None of these is retried: the same
 * credentials, configuration or command line fail the same way next time.
 * - `auth`: the provider rejected the key (401/403, invalid or revoked key);
 * - `auth_expired`: the provider said the key or login expired;
 * - `config`: the CLI's own configuration is incomplete (e.g. no auth method selected);
 * - `usage`: the CLI refused its command line (unknown flag, exit 2);
 * - `budget`: the CLI stopped itself on its own budget or turn limit.
 */
export const ERROR_CATEGORIES = ['auth', 'auth_expired', 'config', 'usage', 'budget'] as const;
export type ErrorCategory = (typeof ERROR_CATEGORIES)[number];

/** Whether usage and cost figures are this run's own (`run`) or the session's running total. */
export type UsageScope = 'run' | 'session';

/** A streaming parser: fed one line of stdout at a time. */
export interface TranscriptParser {
  line(text: string): AgentEvent[];
  /** End of output: anything buffered. */
  end(): AgentEvent[];
  /**
   * The state a parser carries between lines (ids already seen, a thread id),
   * as JSON. Stored with the parse offset, so a parser made again after a
   * server restart (`adapter.parser(saved)`) emits nothing twice.
   */
  snapshot?(): unknown;
}

const MAX_WARNING_LINE = 500;

/**
 * The shared frame of the JSON-lines parsers: parse each line, keep a
 * malformed one as a parse warning and an unknown event raw; never throw.
 */
export function jsonLinesParser(
  map: (obj: Record<string, unknown>) => AgentEvent[] | null,
): TranscriptParser {
  return {
    line(text) {
      const trimmed = text.trim();
      if (!trimmed) return [];
      let obj: unknown;
      try {
        obj = JSON.parse(trimmed);
      } catch {
        return [
          {
            type: 'parse_warning',
            message: 'not a JSON line',
            line: trimmed.slice(0, MAX_WARNING_LINE),
          },
        ];
      }
      if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
        return [
          {
            type: 'parse_warning',
            message: 'not a JSON object',
            line: trimmed.slice(0, MAX_WARNING_LINE),
          },
        ];
      }
      try {
        return map(obj as Record<string, unknown>) ?? [{ type: 'raw', data: obj }];
      } catch (e) {
        return [
          {
            type: 'parse_warning',
            message: `unexpected shape: ${(e as Error).message}`,
            line: trimmed.slice(0, MAX_WARNING_LINE),
          },
        ];
      }
    },
    end: () => [],
  };
}

/** Classifies a tool by its name, across the CLIs' naming conventions. */
export function toolKind(name: string): ToolKind {
  const n = name.toLowerCase();
  if (/(bash|shell|exec|command|terminal|run_shell)/.test(n)) return 'command';
  if (/(edit|write|patch|replace|create_file|notebook)/.test(n)) return 'file_edit';
  if (/(read|view|cat|open_file|ls|list_dir|list_directory)/.test(n)) return 'file_read';
  if (/(grep|glob|search|find|ripgrep)/.test(n)) return 'search';
  if (/(web|fetch|http|browse|url)/.test(n)) return 'web';
  return 'other';
}

// Small typed accessors: agent output is untrusted input.
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;
export const obj = (v: unknown): Record<string, unknown> | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v)
    ? (v as Record<string, unknown>)
    : undefined;
export const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Tool output can be a string, a list of content blocks, or anything else. */
export function textOf(v: unknown): string {
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) {
    return v
      .map((b) => str(obj(b)?.text) ?? (typeof b === 'string' ? b : JSON.stringify(b)))
      .join('\n');
  }
  return v === undefined || v === null ? '' : JSON.stringify(v);
}
