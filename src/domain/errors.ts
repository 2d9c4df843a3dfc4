/**
 * Typed errors. Every error a user can see carries a stable `code` (the API's
 * error catalog reuses it) and a message that says what to do next.
 * `exitCode` follows the CLI contract: 1 = failure, 2 = usage error.
 *
 * Every code is listed here, once: an error cannot be built with a code that
 * is not (`ErrorCode` is a literal union). The HTTP API's catalog
 * (src/server/error-catalog.ts) gives each API code its status, and must name
 * every one of them to compile.
 */

/** Codes the HTTP API answers with. Each can be produced by some request (test/server/error-catalog.test.ts). */
export const API_ERROR_CODES = [
  'invalid_request',
  'invalid_json',
  'invalid_input',
  'unauthorized',
  'host_not_allowed',
  'origin_not_allowed',
  'request_header_required',
  'outside_run_scope',
  'not_found',
  'route_not_found',
  'method_not_allowed',
  'illegal_transition',
  'run_active',
  'run_not_active',
  'approval_decided',
  'dependency_cycle',
  'parent_cycle',
  'open_subtasks',
  'task_scheduled',
  'schedule_heartbeat',
  'merge_conflict',
  'base_checkout_dirty',
  'base_checkout_refused',
  'base_moved',
  'workspace_dirty',
  'run_not_committed',
  'repo_locked',
  'branch_missing',
  'review_comment_sent',
  'diff_changed',
  'remote_not_configured',
  'pr_command_not_configured',
  'push_failed',
  'pr_command_failed',
  'body_too_large',
  'unsupported_media_type',
  'headers_too_large',
  'range_not_satisfiable',
  'output_removed',
  'too_many_auth_failures',
  'internal',
  'unavailable',
  'store_busy',
  'store_full',
  'store_read_only',
] as const;

/**
 * Codes raised only where no HTTP request is being answered: at startup, by
 * the CLI, or by the engine (a run that hits one is blocked with its message).
 * Should one reach the API all the same, it answers `internal` (a bug) or
 * `unavailable`, with the message.
 */
export const PROCESS_ERROR_CODES = [
  /** config.yaml or an agent's settings are invalid (loading config, launching an agent). */
  'invalid_config',
  /** `serve`: the port is taken. */
  'port_in_use',
  /** `serve`: the host is not an address of this machine. */
  'bad_host',
  /** The engine could not start an agent process. */
  'spawn_failed',
  /** The runner refused to signal a process group (a pid of 0 or 1). */
  'invalid_pgid',
  /** Launching a run: the task's worktree is on another branch. */
  'workspace_mismatch',
  /** Launching a run: the task's worktree path is taken by something else. */
  'workspace_occupied',
  /** git cannot be run on this machine. */
  'git_unavailable',
  /** A git command failed unexpectedly (its stderr is in the message). */
  'git_failed',
  /** The store was opened without a SQLite file or database URL. */
  'store_config',
  /** The store was used after it was closed (a shutdown under way). */
  'store_closed',
  /** The board's home cannot be created or written (read-only, no permission, missing, full). */
  'home_unavailable',
  /** The database was written by a newer agentboard. */
  'schema_too_new',
  /** `task wait`: the time ran out. */
  'wait_timeout',
  /** `task wait`: a task was blocked or cancelled. */
  'wait_failed',
] as const;

export type ApiErrorCode = (typeof API_ERROR_CODES)[number];
export type ProcessErrorCode = (typeof PROCESS_ERROR_CODES)[number];
export type ErrorCode = ApiErrorCode | ProcessErrorCode;

/** Whether text read from outside (an API answer) is one of our API error codes. */
export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && (API_ERROR_CODES as readonly string[]).includes(code);
}

export class AgentboardError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: 1 | 2;
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { exitCode?: 1 | 2; details?: Record<string, unknown> } = {},
  ) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.exitCode = opts.exitCode ?? 1;
    this.details = opts.details ?? {};
  }
}

export class IllegalTransitionError extends AgentboardError {
  constructor(entity: string, from: string, action: string, allowed: readonly string[]) {
    const moves = allowed.length > 0 ? allowed.join(', ') : 'none';
    super(
      'illegal_transition',
      `${entity} is ${from}: cannot ${action}. Allowed from ${from}: ${moves}.`,
      { details: { entity, from, action, allowed } },
    );
  }
}

export class NotFoundError extends AgentboardError {
  constructor(kind: string, id: string, hint?: string) {
    super('not_found', `${kind} ${id} not found${hint ? `: ${hint}` : ''}`, {
      details: { kind, id },
    });
  }
}

export class ConflictError extends AgentboardError {
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { details });
  }
}

/** Bad input from the user: a flag, an id format, a field value. */
export class UsageError extends AgentboardError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('invalid_input', message, { exitCode: 2, details });
  }
}

export class ConfigError extends AgentboardError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('invalid_config', message, { details });
  }
}

export class StoreError extends AgentboardError {
  constructor(code: ErrorCode, message: string) {
    super(code, message);
  }
}
