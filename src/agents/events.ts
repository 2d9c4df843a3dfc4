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
  | { type: 'error'; message: string; status?: number; fatal?: boolean }
  | {
      type: 'retry';
      attempt: number;
      maxRetries: number | null;
      delayMs: number | null;
      status: number | null;
      message: string;
    }
  | { type: 'usage'; tokensIn: number; tokensOut: number; cacheRead: number; cacheWrite: number }
  | { type: 'cost'; usd: number; source: 'reported' | 'estimated' }
  | { type: 'result'; ok: boolean; text: string; sessionId: string | null }
  | { type: 'raw'; data: unknown }
  | { type: 'parse_warning'; message: string; line: string };

export type AgentEventType = AgentEvent['type'];

/** A streaming parser: fed one line of stdout at a time. */
export interface TranscriptParser {
  line(text: string): AgentEvent[];
  /** End of output: anything buffered. */
  end(): AgentEvent[];
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
