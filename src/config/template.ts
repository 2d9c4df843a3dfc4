import { type AgentKind, DEFAULT_COMMANDS } from './schema.js';

/**
 * The commented config.yaml that `agentboard init` writes. Agents whose CLI
 * was found on PATH are enabled; the others are left as commented examples.
 */
export function configTemplate(detected: readonly AgentKind[]): string {
  const agents = (Object.keys(DEFAULT_COMMANDS) as Exclude<AgentKind, 'command'>[])
    .map((kind) => agentBlock(kind, detected.includes(kind)))
    .join('\n');
  const first = detected[0];
  return `# agentboard configuration. Durations: 500ms, 30s, 5m, 2h, 7d.
# Validate it any time with: agentboard task list (an invalid file is reported with its key path).

# Agents: name -> how to run it. kind picks the adapter (claude, codex, gemini,
# opencode, cursor, amp, or command for any program). The API key comes from
# token, token_file (not both) or the environment; it never appears in argv or logs.
agents:
${agents}
  # Any program works; the prompt arrives on stdin:
  # shell:
  #   kind: command
  #   command: ./scripts/my-agent.sh
  #   args: ["--flag"]
  #   max_concurrency: 4
${detected.length === 0 ? '  {}\n' : ''}
defaults:
${first ? `  agent: ${first}            # agent for tasks that do not name one\n` : '  # agent: claude          # agent for tasks that do not name one\n'}  max_attempts: 3          # attempts before a card goes to Blocked
  backoff: { base: 10s, factor: 2, max: 10m, jitter: 0.5 }
  timeout: 2h              # wall-clock limit of one run (state timed_out)
  idle_timeout: 15m        # no output for this long: the run is killed and retried
  stop_grace: 10s          # SIGTERM, then SIGKILL after this long
  queue_timeout: 30m       # a run waiting this long to start triggers on_queue_timeout
  on_queue_timeout: log_only   # log_only | mark_stalled | reassign | escalate
  # reassign_to: codex     # used by on_queue_timeout: reassign

board:
  autostart: true          # a Todo card with an agent starts at once
  on_success: review       # review | done: where a successful run puts the card
  done_when_verified: true # a run whose verify command passes goes straight to Done
  max_concurrency: 8       # runs at once on this board
  workspace: shared        # worktree | shared | none: where agents work (worktree: a git branch per task)
  # base_branch: main      # worktree: where task branches start and merge (default: current branch)
  # setup: npm ci          # worktree: run in the task's worktree before each run's agent
  # gc: { older_than: 7d, keep_failed: true, every: 1d }   # periodic gc by the engine
  # remote: origin         # worktree: where "Push branch" (agentboard push) pushes task branches
  # pr_command: gh pr create --fill --head {branch}   # opens a pull request (argv, never a shell)

server:
  host: 127.0.0.1
  port: 4317
  # auth: token            # every request needs the token in $AGENTBOARD_HOME/api-token (none: loopback only)
  # allowed_hosts: [board.example.lan]           # extra names for the Host header
  # allowed_origins: ["http://localhost:5173"]   # extra origins allowed to change the board
`;
}

function agentBlock(kind: Exclude<AgentKind, 'command'>, enabled: boolean): string {
  const lines = [
    `${kind}:`,
    `  kind: ${kind}`,
    `  command: ${DEFAULT_COMMANDS[kind]}`,
    '  max_concurrency: 2',
  ];
  const prefix = enabled ? '  ' : '  # ';
  const out = lines.map((l) => `${prefix}${l}`);
  // Claude Code alone has a headless approval hook (agents/approval-hooks.ts).
  if (kind === 'claude')
    out.push(
      '  #   approvals: board    # tool uses Claude would ask about wait for your decision on the board',
    );
  return out.join('\n');
}
