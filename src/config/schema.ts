import { z } from 'zod';
import { parseDuration } from '../domain/duration.js';
import { parseCron } from '../domain/schedule.js';
import { WORKSPACE_MODES } from '../domain/workspace.js';

export const AGENT_KINDS = [
  'claude',
  'codex',
  'gemini',
  'opencode',
  'copilot',
  'qwen',
  'cursor',
  'amp',
  'command',
] as const;
export type AgentKind = (typeof AGENT_KINDS)[number];

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  try {
    return parseDuration(v);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: (e as Error).message });
    return z.NEVER;
  }
});

const agentName = z
  .string()
  .regex(/^[a-z][a-z0-9_-]{0,39}$/, 'agent names are lower-case letters, digits, - and _');

export const agentSchema = z
  .strictObject({
    kind: z.enum(AGENT_KINDS),
    command: z.string().min(1).optional(),
    args: z.array(z.string()).default([]),
    model: z.string().min(1).optional(),
    permission_mode: z.string().min(1).optional(),
    env: z.record(z.string(), z.string()).default({}),
    token: z.string().min(1).optional(),
    token_file: z.string().min(1).optional(),
    max_concurrency: z.number().int().positive().default(2),
    max_cost_usd: z.number().positive().optional(),
    timeout: duration.optional(),
    idle_timeout: duration.optional(),
    /**
     * agent: the CLI's own permission settings decide alone. board: a tool use
     * the CLI would ask about becomes an approval request on the board
     * (only for CLIs with a headless approval hook: agents/approval-hooks.ts).
     */
    approvals: z.enum(['agent', 'board']).default('agent'),
    /** A pending approval not decided this long is denied with a message (default: waits). */
    approval_timeout: duration.optional(),
    labels: z.array(z.string()).default([]),
    /** Overrides board.workspace for this agent's runs. */
    workspace: z.enum(WORKSPACE_MODES).optional(),
    /** Overrides the adapter's tested CLI versions (both ends included) for the untested-version warning. */
    tested_versions: z
      .strictObject({
        min: z.string().regex(/^v?\d+(\.\d+)*(-[0-9A-Za-z.-]+)?$/, 'a version such as 1.2.3'),
        max: z.string().regex(/^v?\d+(\.\d+)*(-[0-9A-Za-z.-]+)?$/, 'a version such as 1.2.3'),
      })
      .optional(),
    /** Stop at the first 401/403 retry notice instead of letting the CLI retry for minutes. */
    stop_on_auth_error: z.boolean().default(true),
    /**
     * Start this agent even where it could write the board's own files (its
     * mode bypasses its CLI's permissions, or the CLI cannot protect a path)
     * while the home is inside its workspace: agents/board-files.ts.
     */
    allow_board_writes: z.boolean().default(false),
    /** Profile: text prepended to every prompt of this agent (or read from a file). */
    instructions: z.string().min(1).optional(),
    instructions_file: z.string().min(1).optional(),
    /** Profile: the agent's working memory (default $AGENTBOARD_HOME/agents/<name>/MEMORY.md). */
    memory_file: z.string().min(1).optional(),
    /** Profile: a schedule that wakes the agent to review its open tasks and mentions. */
    heartbeat: z
      .strictObject({
        cron: z.string().min(1),
        prompt: z.string().min(1).optional(),
        timezone: z.string().min(1).optional(),
      })
      .superRefine((h, ctx) => {
        try {
          parseCron({ cron: h.cron, timezone: h.timezone ?? null });
        } catch (e) {
          ctx.addIssue({ code: 'custom', message: (e as Error).message });
        }
      })
      .optional(),
  })
  .refine((a) => !(a.token && a.token_file), {
    message: 'token and token_file are mutually exclusive: keep one',
    path: ['token_file'],
  })
  .refine((a) => !(a.instructions && a.instructions_file), {
    message: 'instructions and instructions_file are mutually exclusive: keep one',
    path: ['instructions_file'],
  })
  .refine((a) => a.kind !== 'command' || a.command, {
    message: 'an agent of kind "command" needs a command',
    path: ['command'],
  });

export const QUEUE_ACTIONS = ['log_only', 'mark_stalled', 'reassign', 'escalate'] as const;

const defaultsSchema = z
  .strictObject({
    agent: agentName.optional(),
    max_attempts: z.number().int().min(1).max(100).default(3),
    backoff: z
      .strictObject({
        base: duration.default(10_000),
        factor: z.number().min(1).max(10).default(2),
        max: duration.default(600_000),
        jitter: z.number().min(0).max(1).default(0.5),
      })
      .prefault({}),
    timeout: duration.default(7_200_000),
    idle_timeout: duration.default(900_000),
    /** Agents' default approval_timeout: unset, a request waits until someone decides. */
    approval_timeout: duration.optional(),
    stop_grace: duration.default(10_000),
    queue_timeout: duration.default(1_800_000),
    on_queue_timeout: z.enum(QUEUE_ACTIONS).default('log_only'),
    reassign_to: agentName.optional(),
    lease: duration.default(30_000),
  })
  .prefault({});

const boardSchema = z
  .strictObject({
    autostart: z.boolean().default(true),
    on_success: z.enum(['review', 'done']).default('review'),
    done_when_verified: z.boolean().default(true),
    max_concurrency: z.number().int().positive().default(8),
    workdir: z.string().min(1).optional(),
    /** worktree: a git worktree and branch per task; shared: the workdir itself; none: a scratch dir. */
    workspace: z.enum(WORKSPACE_MODES).default('shared'),
    /** The branch task branches start from and merge into (default: the checkout's current branch). */
    base_branch: z.string().min(1).optional(),
    /** The git remote "Push branch" pushes task branches to, e.g. `origin`. */
    remote: z
      .string()
      .min(1)
      .max(200)
      .regex(/^[^-\s][^\s]*$/, 'a git remote name such as origin')
      .optional(),
    /**
     * Opens a pull request for a pushed task branch, as an argv array or a
     * string split on spaces (never through a shell); `{branch}`, `{base}`,
     * `{title}` and `{remote}` are replaced per argument. Its stdout's last URL is the PR's.
     */
    pr_command: z.union([z.array(z.string().min(1)).min(1), z.string().min(1)]).optional(),
    /** A shell command run in a task's worktree before each run's agent (e.g. `npm ci`). */
    setup: z.string().min(1).optional(),
    /** Periodic gc, run by the engine when `every` is set. */
    gc: z
      .strictObject({
        older_than: duration.default(7 * 86_400_000),
        keep_failed: z.boolean().default(false),
        every: duration.optional(),
      })
      .prefault({}),
  })
  .prefault({});

const serverSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(4317),
    /**
     * token: every API request needs the owner's token (kept in the home),
     * on loopback too. none: no token at all, allowed only on a loopback bind.
     */
    auth: z.enum(['token', 'none']).default('token'),
    /** Names besides loopback and the bind address that may appear in Host (a proxy's, a LAN name). */
    allowed_hosts: z.array(z.string().min(1)).default([]),
    /** Origins besides the board's own that may make state-changing requests. */
    allowed_origins: z.array(z.url()).default([]),
  })
  .prefault({});

export const configSchema = z
  .strictObject({
    agents: z.record(agentName, agentSchema).default({}),
    defaults: defaultsSchema,
    board: boardSchema,
    server: serverSchema,
  })
  .superRefine((c, ctx) => {
    const names = Object.keys(c.agents);
    const check = (name: string | undefined, path: (string | number)[]) => {
      if (name && !names.includes(name)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `agent "${name}" is not defined under agents (defined: ${names.join(', ') || 'none'})`,
        });
      }
    };
    check(c.defaults.agent, ['defaults', 'agent']);
    check(c.defaults.reassign_to, ['defaults', 'reassign_to']);
    if (c.defaults.on_queue_timeout === 'reassign' && !c.defaults.reassign_to) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaults', 'reassign_to'],
        message: 'on_queue_timeout: reassign needs defaults.reassign_to',
      });
    }
  });

export type Config = z.output<typeof configSchema>;
export type AgentConfig = z.output<typeof agentSchema>;

/** The binary each kind runs when `command` is not set. */
export const DEFAULT_COMMANDS: Record<Exclude<AgentKind, 'command'>, string> = {
  claude: 'claude',
  codex: 'codex',
  gemini: 'gemini',
  opencode: 'opencode',
  copilot: 'copilot',
  qwen: 'qwen',
  cursor: 'cursor-agent',
  amp: 'amp',
};

export function agentCommand(agent: AgentConfig): string {
  return agent.command ?? (agent.kind === 'command' ? '' : DEFAULT_COMMANDS[agent.kind]);
}
