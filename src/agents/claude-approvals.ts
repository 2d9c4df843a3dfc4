/**
 * `approvals: board` for Claude Code: a tool use Claude would ask about goes
 * to agentboard's MCP tool, which makes it an approval request on the board
 * and answers with the person's decision (mcp/approval-prompt.ts).
 *
 * Verified on Claude Code 2.1.330 (test/fixtures/claude-approvals/):
 * - `--permission-prompt-tool` is asked only after Claude's own rules and
 *   mode: an allow rule (`--allowedTools Bash`) or the mode (Read inside the
 *   cwd) runs the tool unasked, a deny rule removes it; neither calls the tool.
 * - `--mcp-config` takes a file or a JSON string; `--opt=value` ends the
 *   option's variadic list, so the agent's own args cannot be swallowed.
 * - The MCP server is Claude's child and inherits Claude's environment (the
 *   config's `env` is laid on top): the run's AGENTBOARD_URL, AGENTBOARD_TOKEN
 *   and AGENTBOARD_RUN_ID reach `agentboard mcp` that way, so the config holds
 *   no secret and can go in argv (which other users can read in /proc).
 * - One tool call is bounded by the server's `timeout` (ms, a hard limit),
 *   else MCP_TOOL_TIMEOUT (default 1e8 ms), and for stdio servers by an idle
 *   limit of 30 min without an answer or progress
 *   (CLAUDE_CODE_MCP_TOOL_IDLE_TIMEOUT), which the server's `timeout` lifts.
 *   A call cut by either is a tool error, not a denial: the config sets the
 *   largest `timeout` Claude takes, and the run's own wall-clock timeout is
 *   the bound on how long a person may take.
 */
import { fileURLToPath } from 'node:url';
import type { AgentConfig } from '../config/schema.js';
import { ConfigError } from '../domain/errors.js';
import type { ExitDiagnosis } from './adapter.js';
import { boardApprovalsProblem } from './approval-hooks.js';

/** The server's name in Claude's config, and the tool's name on it. */
export const APPROVAL_SERVER = 'agentboard';
export const APPROVAL_PROMPT_TOOL = 'approval_prompt';
/** How Claude names the tool: `mcp__<server>__<tool>`. */
export const APPROVAL_PROMPT_NAME = `mcp__${APPROVAL_SERVER}__${APPROVAL_PROMPT_TOOL}`;

/** This build's CLI (as bin/agentboard.js loads it), run with this Node: a clone and an install alike. */
const CLI_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));
/** The largest tool-call timeout Claude Code takes (setTimeout's limit, about 24.8 days). */
export const NO_CALL_LIMIT_MS = 2_147_483_647;

/** The MCP configuration Claude starts agentboard's server from. */
export function approvalMcpConfig(): Record<string, unknown> {
  return {
    mcpServers: {
      [APPROVAL_SERVER]: {
        type: 'stdio',
        command: process.execPath,
        args: [CLI_MAIN, 'mcp'],
        timeout: NO_CALL_LIMIT_MS,
      },
    },
  };
}

/** The flags `approvals: board` adds to `claude -p`; none for `approvals: agent`. */
export function claudeApprovalArgs(name: string, agent: AgentConfig): string[] {
  if (agent.approvals !== 'board') return [];
  // Config load refuses these already; a config built another way is refused here.
  const problem = boardApprovalsProblem(name, agent);
  if (problem) throw new ConfigError(problem);
  return [
    `--mcp-config=${JSON.stringify(approvalMcpConfig())}`,
    `--permission-prompt-tool=${APPROVAL_PROMPT_NAME}`,
  ];
}

/**
 * Claude exits 1 with "MCP tool … (passed via --permission-prompt-tool) not
 * found" when the server did not start (e.g. `agentboard mcp` found no
 * AGENTBOARD_URL): a setup problem, not worth a retry.
 */
export function approvalToolMissing(stderrTail: string): ExitDiagnosis | null {
  const line = stderrTail.split(/\r?\n/).find((l) => /passed via --permission-prompt-tool/.test(l));
  if (!line) return null;
  return {
    category: 'config',
    message: `Claude Code could not reach agentboard's approval tool (${line.trim().slice(0, 300)}): the run's worker needs the board's API address (AGENTBOARD_URL)`,
  };
}
