/**
 * The tool Claude Code's `--permission-prompt-tool` names (issue 18;
 * agents/claude-approvals.ts starts it). Claude calls it with the tool use it
 * would ask about; the tool makes that an approval request on the board, waits
 * for a person's decision and answers in Claude's shape: a single text block
 * holding `{"behavior":"allow","updatedInput":{…}}` or
 * `{"behavior":"deny","message":"…"}` (test/fixtures/claude-approvals/).
 *
 * The request is a row, so the wait survives the server: while it is down
 * (SIGKILL, restart) every call is retried with a short backoff, forever; the
 * run's wall-clock timeout bounds it. A retried request carries the same
 * tool use id, which the board answers with the same row.
 */
import { randomUUID } from 'node:crypto';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { APPROVAL_PROMPT_TOOL } from '../agents/claude-approvals.js';
import type { BoardAccess } from '../app/board-access.js';
import type { ApprovalView } from '../contract/approvals.js';
import { systemClock } from '../domain/clock.js';
import { AgentboardError } from '../domain/errors.js';
import type { Redactor } from '../domain/redact.js';

/** Claude's answer shapes (2.1.330 checks them with a schema; `updatedInput` may be left out). */
export type PromptAnswer =
  | { behavior: 'allow'; updatedInput: Record<string, unknown> }
  | { behavior: 'deny'; message: string };

export interface PromptRequest {
  tool_name: string;
  input: Record<string, unknown>;
  tool_use_id?: string | undefined;
}

export interface DecideOptions {
  signal?: AbortSignal;
  /** One long-poll (the API holds a wait up to 60 s). */
  waitStepMs?: number;
  /** Backoff after a failed call: from `minMs`, doubling, at most `maxMs`. */
  backoff?: { minMs: number; maxMs: number };
  /** Told of each retried failure (tests; the server's stderr). */
  onRetry?: (e: unknown) => void;
}

/** Codes that mean "the board is not there right now": asked again, never answered as a denial. */
const RETRY_CODES: ReadonlySet<string> = new Set([
  'unavailable',
  'store_busy',
  'store_full',
  'too_many_auth_failures',
]);

/**
 * A refusal (not found, forbidden, the run ended…) is final: the request is
 * denied with what the board said. Anything else (connection refused or
 * reset, a body cut off, a 503 while the server starts) is asked again.
 */
function isRetryable(e: unknown): boolean {
  return !(e instanceof AgentboardError) || RETRY_CODES.has(e.code);
}

/** Waits `ms`, or less when `signal` aborts (the loop then sees it and gives up). */
async function pause(ms: number, signal?: AbortSignal): Promise<void> {
  await systemClock.sleep(ms, signal).catch(() => {});
}

/** The answer a decided request gives Claude. */
export function answerFor(view: ApprovalView, input: Record<string, unknown>): PromptAnswer {
  // The input goes back as Claude sent it: the row's copy is masked, and a masked command would differ.
  if (view.state === 'allowed') return { behavior: 'allow', updatedInput: input };
  const by = view.decidedBy ? ` by ${view.decidedBy}` : '';
  const why =
    view.message ??
    (view.state === 'expired'
      ? 'nobody decided in time (approval_timeout)'
      : view.state === 'cancelled'
        ? `the request was cancelled${by}`
        : `denied${by}`);
  return { behavior: 'deny', message: why };
}

/** Asks the board about one tool use and waits for the decision. */
export async function decideApproval(
  board: Pick<BoardAccess, 'requestApproval' | 'waitApproval'>,
  runId: string,
  req: PromptRequest,
  o: DecideOptions = {},
): Promise<PromptAnswer> {
  const step = o.waitStepMs ?? 50_000;
  const { minMs, maxMs } = o.backoff ?? { minMs: 250, maxMs: 5_000 };
  // One id for every attempt: a request the board stored before its answer was lost is found again.
  const toolUseId = req.tool_use_id || `agentboard-${randomUUID()}`;
  let delay = minMs;
  const attempt = async <T>(call: () => Promise<T>): Promise<T | PromptAnswer> => {
    for (;;) {
      if (o.signal?.aborted) return { behavior: 'deny', message: 'the request was abandoned' };
      try {
        const v = await call();
        delay = minMs;
        return v;
      } catch (e) {
        if (o.signal?.aborted) continue;
        if (!isRetryable(e)) {
          const err = e as AgentboardError;
          return {
            behavior: 'deny',
            message: `agentboard could not ask a person (${err.code}: ${err.message})`,
          };
        }
        o.onRetry?.(e);
        await pause(delay, o.signal);
        delay = Math.min(maxMs, delay * 2);
      }
    }
  };
  const isAnswer = (v: unknown): v is PromptAnswer =>
    typeof v === 'object' && v !== null && 'behavior' in v;

  let view = await attempt(() =>
    board.requestApproval(runId, { tool: req.tool_name, input: req.input, toolUseId }),
  );
  for (;;) {
    if (isAnswer(view)) return view;
    if (view.state !== 'pending') return answerFor(view, req.input);
    const id = view.id;
    view = await attempt(() => board.waitApproval(id, step, o.signal));
  }
}

/** Registers the tool on agentboard's MCP server (`agentboard mcp`, inside a run). */
export function registerApprovalPrompt(
  server: McpServer,
  board: BoardAccess,
  redact: Redactor,
  env: NodeJS.ProcessEnv = process.env,
): void {
  server.registerTool(
    APPROVAL_PROMPT_TOOL,
    {
      description:
        'For Claude Code’s --permission-prompt-tool: asks a person on the board to allow or deny a tool use, waits for the decision and answers {"behavior":"allow"|"deny",…}.',
      inputSchema: {
        tool_name: z.string().min(1).max(200),
        input: z.record(z.string(), z.unknown()),
        tool_use_id: z.string().max(200).optional(),
      },
    },
    async (args, extra): Promise<CallToolResult> => {
      const runId = env.AGENTBOARD_RUN_ID;
      const answer: PromptAnswer = runId
        ? await decideApproval(board, runId, args, {
            signal: extra.signal,
            onRetry: (e) =>
              process.stderr.write(
                redact.text(`approval_prompt: retrying: ${(e as Error).message ?? String(e)}\n`),
              ),
          })
        : {
            behavior: 'deny',
            message: 'approval_prompt answers only inside an agentboard run (AGENTBOARD_RUN_ID)',
          };
      // Only the message is masked: updatedInput must be the input Claude sent, byte for byte.
      const text =
        answer.behavior === 'deny'
          ? JSON.stringify({ behavior: 'deny', message: redact.text(answer.message) })
          : JSON.stringify(answer);
      return { content: [{ type: 'text', text }] };
    },
  );
}
