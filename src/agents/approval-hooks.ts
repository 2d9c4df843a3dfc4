/**
 * Which CLIs can put a tool use before a person on the board (`approvals:
 * board`), and why the others cannot yet. Board approvals need a hook the
 * CLI calls in its headless mode, waits on, and obeys; the agent-protocol
 * issue (ACP) brings approvals to the CLIs whose only such hook is a session
 * protocol agentboard does not speak yet.
 *
 * What was checked (2026-12): `--help` and the package's code of the CLIs in
 * devDependencies (codex 0.169.0, gemini 0.61.0, opencode 1.18.33, copilot
 * 1.0.102, qwen 0.21.10), the headless behaviour their adapters here record
 * (and the e2e tests see), and for Cursor and Amp, not installed here, their
 * published docs (cursor.com/docs/cli, Amp's permissions: "ask" is
 * interactive only).
 */
import type { AgentConfig, AgentKind, Config } from '../config/schema.js';

export type ApprovalHook = { supported: true; how: string } | { supported: false; reason: string };

export const APPROVAL_HOOKS: Readonly<Record<AgentKind, ApprovalHook>> = {
  claude: {
    supported: true,
    how: '`claude -p --permission-prompt-tool mcp__agentboard__approval_prompt` with agentboard’s MCP server (`agentboard mcp`) passed by --mcp-config',
  },
  codex: {
    supported: false,
    reason:
      '`codex exec` never asks: it sets the approval policy to `never` for headless runs, so its sandbox alone runs or refuses a command; its approval requests reach a client only through `codex app-server`, which agentboard does not drive yet',
  },
  gemini: {
    supported: false,
    reason:
      'headless `gemini -p` does not ask: without yolo, the tools that need approval (shell, file writes, web fetch) are not offered to the model; its approvals reach a client only over ACP (`gemini --acp`)',
  },
  opencode: {
    supported: false,
    reason:
      '`opencode run` rejects every permission set to "ask" on its own; its approvals reach a client only through `opencode serve` or ACP (`opencode acp`)',
  },
  copilot: {
    supported: false,
    reason:
      'headless `copilot -p` denies a tool use that is not allowed by --allow-tool/--allow-all-tools; its approvals reach a client only over ACP (`copilot --acp`)',
  },
  qwen: {
    supported: false,
    reason:
      'headless `qwen -p` declines a tool use that needs approval; it asks a host only through its SDK control protocol (`--input-format stream-json`) or ACP (`qwen --acp`), which agentboard does not speak yet',
  },
  cursor: {
    supported: false,
    reason:
      'Cursor’s print mode (`cursor-agent -p`) cannot stop to ask: what would need approval is rejected, or everything runs with --force',
  },
  amp: {
    supported: false,
    reason:
      'Amp’s execute mode (`amp -x`) cannot ask: an "ask" permission prompts only in its interactive mode, and its "delegate" action hands the decision to a program agentboard does not provide yet',
  },
  command: {
    supported: false,
    reason: 'a `command` agent is a plain program with no tools to approve',
  },
};

/** Why `approvals: board` cannot be used for this agent, or null when it can. */
export function boardApprovalsProblem(name: string, agent: AgentConfig): string | null {
  if (agent.approvals !== 'board') return null;
  const hook = APPROVAL_HOOKS[agent.kind];
  if (!hook.supported)
    return `agents.${name}.approvals: board is not available for kind ${agent.kind}: ${hook.reason}. Use approvals: agent (its own permission_mode decides)`;
  if (
    agent.permission_mode === 'dangerously-skip-permissions' ||
    agent.permission_mode === 'bypassPermissions'
  )
    return `agents.${name}.approvals: board with permission_mode ${agent.permission_mode} would never ask: drop the bypass (permission_mode default or acceptEdits) or use approvals: agent`;
  // --allow-dangerously-skip-permissions lets the session switch to the bypass mode later.
  const bypass =
    bypassArg(agent.args) ??
    agent.args.find((a) => a.split('=')[0] === '--allow-dangerously-skip-permissions');
  if (bypass)
    return `agents.${name}.approvals: board with args ${bypass} would never ask: remove it from agents.${name}.args (permission_mode default or acceptEdits) or use approvals: agent`;
  const prompt = agent.args.find(
    (a) => a === PROMPT_TOOL_FLAG || a.startsWith(`${PROMPT_TOOL_FLAG}=`),
  );
  if (prompt)
    return `agents.${name}.approvals: board sets ${PROMPT_TOOL_FLAG} itself; ${prompt} in agents.${name}.args would take its place and no request would reach the board: remove it from args, or use approvals: agent`;
  return null;
}

const PROMPT_TOOL_FLAG = '--permission-prompt-tool';
const BYPASS_MODES = new Set(['bypassPermissions', 'dangerously-skip-permissions']);

/**
 * The arg (or `--permission-mode <mode>` pair) by which Claude Code would ask
 * nobody: a skip flag, or --permission-mode bypassPermissions in either form.
 */
function bypassArg(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    const flag = a.split('=')[0] as string;
    if (flag === '--dangerously-skip-permissions') return a;
    if (flag !== '--permission-mode') continue;
    const mode = a.includes('=') ? a.slice(a.indexOf('=') + 1) : args[i + 1];
    if (mode !== undefined && BYPASS_MODES.has(mode.trim()))
      return a.includes('=') ? a : `${a} ${mode}`;
  }
  return null;
}

/** Every such problem in a config, one per agent. */
export function boardApprovalsProblems(config: Config): string[] {
  return Object.entries(config.agents).flatMap(([name, agent]) => {
    const p = boardApprovalsProblem(name, agent);
    return p ? [p] : [];
  });
}

/** Claude Code asks nobody in these modes: board approvals would be silently skipped. */
export function bypassesPermissions(agent: AgentConfig): boolean {
  const mode = agent.permission_mode;
  return (
    mode === 'dangerously-skip-permissions' ||
    mode === 'bypassPermissions' ||
    bypassArg(agent.args) !== null
  );
}
