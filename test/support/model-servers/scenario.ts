/**
 * The scenario format shared by the scripted model servers (Anthropic, OpenAI Responses, Gemini).
 * Not a test file.
 *
 * A scenario is either a list of model turns, or an error answered to requests.
 *
 * Turns are picked statelessly from the conversation the CLI sends: turn N is answered when the
 * request's history already holds N model turns. A retried request therefore gets the same turn
 * again, and a resumed session (`--resume`) continues with the next turn of the same script.
 * Once the script runs out, the server answers {@link FALLBACK_TURN}.
 */

/** A tool call the model makes. `shell` maps to each CLI's own shell tool. */
export type ToolCall =
  | { shell: string; description?: string }
  /** Any other tool, by the CLI's own tool name, with its arguments as the CLI expects them. */
  | { name: string; input: Record<string, unknown> };

export interface ModelTurn {
  /** Reasoning surfaced as a thinking block / reasoning summary / thought part. */
  thinking?: string;
  /** Assistant text, streamed in a few deltas. */
  text?: string;
  /** A tool call after the text; the turn then ends with stop reason "tool use". */
  tool?: ToolCall;
  /**
   * The connection is cut mid-stream: the response starts (status 200, the first text delta),
   * then the socket is destroyed before the turn ends. Only the first `cut` requests for this
   * turn are cut; a retry of the same turn is answered whole.
   */
  cut?: number;
}

/** Every request (side requests included) is answered with this HTTP error. */
export interface ErrorScenario {
  status: number;
  /** Response body; a string is sent as is, anything else as JSON. Default: the API's usual error. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Only the first `times` requests fail; later ones are answered from `afterwards`. Default: all. */
  times?: number;
  afterwards?: ModelTurn[];
}

export type Scenario = ModelTurn[] | ErrorScenario;

export const FALLBACK_TURN: ModelTurn = { text: 'DONE' };

export function isErrorScenario(s: Scenario): s is ErrorScenario {
  return !Array.isArray(s);
}

/** The turns a scenario answers with once any errors are spent. */
export function scenarioTurns(s: Scenario): ModelTurn[] {
  return isErrorScenario(s) ? (s.afterwards ?? []) : s;
}

export function turnAt(s: Scenario, index: number): ModelTurn {
  return scenarioTurns(s)[index] ?? FALLBACK_TURN;
}

/** Splits text into a few chunks so the CLIs see several deltas. */
export function chunks(text: string, parts = 3): string[] {
  if (text.length <= parts) return [text];
  const size = Math.ceil(text.length / parts);
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

/** A rough, deterministic token count: 1 per 4 characters, at least 1. */
export function tokens(s: string): number {
  return Math.max(1, Math.ceil(s.length / 4));
}

export function isShell(t: ToolCall): t is { shell: string; description?: string } {
  return 'shell' in t;
}

/** Counts runs of consecutive items for which `isModel` holds: one run per model turn. */
export function countModelTurns<T>(items: readonly T[], isModel: (item: T) => boolean): number {
  let turns = 0;
  let inRun = false;
  for (const item of items) {
    const m = isModel(item);
    if (m && !inRun) turns++;
    inRun = m;
  }
  return turns;
}
