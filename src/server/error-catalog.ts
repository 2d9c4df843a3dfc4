import {
  AgentboardError,
  type ApiErrorCode,
  type ErrorCode,
  type ProcessErrorCode,
} from '../domain/errors.js';

/**
 * Every error the HTTP API returns, by stable code. Application errors keep
 * the code they were thrown with (the CLI shows the same one); this table
 * gives each its HTTP status. Clients switch on `code`, never on the message.
 * It must name exactly the codes of API_ERROR_CODES (src/domain/errors.ts),
 * or this file does not compile.
 */
export const ERROR_CATALOG = {
  invalid_request: { status: 400, summary: 'a parameter, query field or body field is invalid' },
  invalid_json: { status: 400, summary: 'the body is not valid JSON' },
  invalid_input: { status: 400, summary: 'a value is not acceptable (see the field)' },
  unauthorized: { status: 401, summary: 'a valid Bearer token is required' },
  host_not_allowed: { status: 403, summary: 'the Host header is not on the allow-list' },
  origin_not_allowed: { status: 403, summary: 'a state-changing request from a foreign Origin' },
  request_header_required: {
    status: 403,
    summary:
      'a state-changing request without a JSON body must carry the header X-Agentboard-Request: 1',
  },
  outside_run_scope: {
    status: 403,
    summary:
      'a run’s token may read the board, post to the bus, and comment on and add subtasks under its own task; nothing else',
  },
  not_found: { status: 404, summary: 'the task, run or other object does not exist' },
  route_not_found: { status: 404, summary: 'no such route' },
  method_not_allowed: {
    status: 405,
    summary: 'the route exists for other methods (the Allow header lists them)',
  },
  illegal_transition: { status: 409, summary: 'the state machine does not allow that move' },
  run_active: {
    status: 409,
    summary: 'the task has an active run: stop it or wait for it to end first',
  },
  run_not_active: { status: 409, summary: 'the run has already ended' },
  approval_decided: {
    status: 409,
    summary:
      'the approval request was already decided (allowed, denied, expired or cancelled); nothing changed',
  },
  dependency_cycle: { status: 409, summary: 'the dependency would make a cycle' },
  parent_cycle: { status: 409, summary: 'the parent would make a cycle' },
  open_subtasks: { status: 409, summary: 'the task has open subtasks' },
  task_scheduled: {
    status: 409,
    summary: 'a schedule targets the task: remove the schedule first',
  },
  schedule_heartbeat: { status: 409, summary: 'a heartbeat schedule is managed by the config' },
  merge_conflict: {
    status: 409,
    summary: 'the task branch conflicts with its base; nothing was merged',
  },
  base_checkout_dirty: {
    status: 409,
    summary: 'the base branch’s checkout has uncommitted changes',
  },
  base_checkout_refused: {
    status: 409,
    summary: 'the base branch’s checkout cannot be moved forward',
  },
  base_moved: { status: 409, summary: 'the base branch moved during the merge; retry' },
  workspace_dirty: { status: 409, summary: 'the worktree has uncommitted changes' },
  run_not_committed: { status: 409, summary: 'the run’s work is not committed yet' },
  repo_locked: { status: 409, summary: 'another git operation holds the repository; retry' },
  branch_missing: { status: 409, summary: 'the task branch or base branch no longer exists' },
  review_comment_sent: {
    status: 409,
    summary: 'the review comment was sent with a review; only a draft can be deleted',
  },
  diff_changed: {
    status: 409,
    summary: 'the diff changed since it was loaded: the line commented on now reads otherwise',
  },
  remote_not_configured: {
    status: 400,
    summary: 'board.remote is not set: there is nowhere to push',
  },
  pr_command_not_configured: {
    status: 400,
    summary: 'board.pr_command is not set: there is no command to open a pull request with',
  },
  push_failed: { status: 502, summary: 'git push to board.remote failed (git’s message says why)' },
  pr_command_failed: {
    status: 502,
    summary: 'board.pr_command failed or printed no pull request URL; nothing was recorded',
  },
  body_too_large: { status: 413, summary: 'the request body is over the size limit' },
  unsupported_media_type: { status: 415, summary: 'send JSON (Content-Type: application/json)' },
  output_removed: {
    status: 410,
    summary: 'gc removed the run’s logs and transcript (the message says when)',
  },
  range_not_satisfiable: { status: 416, summary: 'the offset is past the end of the log' },
  too_many_auth_failures: { status: 429, summary: 'too many failed authentications; wait' },
  headers_too_large: { status: 431, summary: 'the request headers are over the size limit' },
  internal: { status: 500, summary: 'an unexpected error; see the server log' },
  unavailable: {
    status: 503,
    summary: 'the store, git or the server itself is not available right now; retry',
  },
  store_busy: {
    status: 503,
    summary: 'another process holds the database’s write lock; writes resume once it lets go',
  },
  store_full: {
    status: 503,
    summary: 'the disk holding the database is full; writes resume once space is freed',
  },
  store_read_only: {
    status: 503,
    summary: 'the database cannot be written (read-only file, folder or disk); fix its permissions',
  },
} as const satisfies Record<ApiErrorCode, { status: number; summary: string }>;

export type { ApiErrorCode, ErrorCode };

/**
 * How the API answers a code that is never its own (see PROCESS_ERROR_CODES):
 * a missing dependency or a closing store is `unavailable`, anything else is
 * a bug, `internal`. The message is kept either way.
 */
const PROCESS_CODE_ANSWER = {
  invalid_config: 'internal',
  port_in_use: 'internal',
  bad_host: 'internal',
  spawn_failed: 'internal',
  invalid_pgid: 'internal',
  workspace_mismatch: 'internal',
  workspace_occupied: 'internal',
  git_unavailable: 'unavailable',
  git_failed: 'internal',
  store_config: 'internal',
  store_closed: 'unavailable',
  home_unavailable: 'unavailable',
  schema_too_new: 'internal',
  wait_timeout: 'internal',
  wait_failed: 'internal',
} as const satisfies Record<ProcessErrorCode, 'internal' | 'unavailable'>;

/** Every error answer: the same three fields, `details` an object (empty when there is nothing to add). */
export interface ErrorBody {
  error: { code: ApiErrorCode; message: string; details: Record<string, unknown> };
}

/** An error raised by the HTTP layer itself (auth, validation, ranges). */
export class HttpError extends AgentboardError {
  readonly status: number;
  declare readonly code: ApiErrorCode;
  constructor(code: ApiErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { details });
    this.status = ERROR_CATALOG[code].status;
  }
}

/** The status and JSON body for any thrown value: typed errors map by code, the rest are 500s. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof HttpError) return respond(err.code, err.message, err.details);
  if (err instanceof AgentboardError) {
    const code = isApiCode(err.code) ? err.code : PROCESS_CODE_ANSWER[err.code];
    return respond(code, err.message, err.details);
  }
  return (
    fastifyError(err) ?? respond('internal', 'an unexpected error; the server log has the details')
  );
}

/** The answer for one catalog code: its status, and the one error shape. */
export function respond(
  code: ApiErrorCode,
  message: string,
  details: Record<string, unknown> = {},
): { status: number; body: ErrorBody } {
  return { status: ERROR_CATALOG[code].status, body: { error: { code, message, details } } };
}

function isApiCode(code: ErrorCode): code is ApiErrorCode {
  return Object.hasOwn(ERROR_CATALOG, code);
}

/**
 * Errors Fastify raises itself, before a handler runs: body parsing, size,
 * media type, a URL it cannot route. Each gets a catalog code and a message
 * that says what to send instead.
 */
function fastifyError(err: unknown): { status: number; body: ErrorBody } | undefined {
  const e = err as { code?: unknown; statusCode?: unknown; message?: unknown };
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return respond(
        'invalid_json',
        'the body is not valid JSON: send one JSON object, with Content-Type: application/json',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return respond(
        'invalid_json',
        'the body is empty but Content-Type says JSON: send a JSON object, or leave out the Content-Type',
      );
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return respond(
        'body_too_large',
        `the request body is over the ${BODY_LIMIT_TEXT} limit: send less (large output belongs in files, not requests)`,
        { limitBytes: BODY_LIMIT_BYTES },
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return respond(
        'unsupported_media_type',
        'send the body as JSON with Content-Type: application/json',
      );
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return respond(
        'invalid_request',
        'the body’s size does not match its Content-Length header: send the header that matches the body, or none',
      );
    case 'FST_ERR_BAD_URL':
      return respond(
        'invalid_request',
        'the URL is not valid: percent-encode it correctly (e.g. %2F for a slash inside an id)',
      );
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return respond(
        'invalid_request',
        'a part of the URL path is too long to be an id: check the id you sent',
      );
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const why = typeof e.message === 'string' && e.message ? e.message : 'the request is malformed';
    return respond('invalid_request', `${why}: see /openapi.json for what this route accepts`);
  }
  return undefined;
}

export const BODY_LIMIT_BYTES = 2 * 1024 * 1024;
const BODY_LIMIT_TEXT = '2 MiB';
