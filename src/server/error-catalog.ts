import { AgentboardError } from '../domain/errors.js';

/**
 * Every error the HTTP API returns, by stable code. Application errors keep
 * the code they were thrown with (the CLI shows the same one); this table
 * gives each its HTTP status. Clients switch on `code`, never on the message.
 */
export const ERROR_CATALOG = {
  invalid_request: { status: 400, summary: 'a parameter, query field or body field is invalid' },
  invalid_json: { status: 400, summary: 'the body is not valid JSON' },
  invalid_input: { status: 400, summary: 'a value is not acceptable (see the field)' },
  unauthorized: { status: 401, summary: 'a valid Bearer token is required' },
  host_not_allowed: { status: 403, summary: 'the Host header is not on the allow-list' },
  origin_not_allowed: { status: 403, summary: 'a state-changing request from a foreign Origin' },
  not_found: { status: 404, summary: 'the task, run or other object does not exist' },
  route_not_found: { status: 404, summary: 'no such route' },
  method_not_allowed: { status: 405, summary: 'the route exists for other methods' },
  illegal_transition: { status: 409, summary: 'the state machine does not allow that move' },
  run_active: { status: 409, summary: 'the task already has an active run' },
  run_not_active: { status: 409, summary: 'the run has already ended' },
  dependency_cycle: { status: 409, summary: 'the dependency would make a cycle' },
  parent_cycle: { status: 409, summary: 'the parent would make a cycle' },
  open_subtasks: { status: 409, summary: 'the task has open subtasks' },
  task_active: { status: 409, summary: 'the task has an active run and cannot be deleted' },
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
  task_has_active_run: { status: 409, summary: 'the task has an active run; stop it first' },
  workspace_dirty: { status: 409, summary: 'the worktree has uncommitted changes' },
  workspace_mismatch: { status: 409, summary: 'the worktree is not the one agentboard made' },
  workspace_occupied: { status: 409, summary: 'the worktree path is taken by something else' },
  run_not_committed: { status: 409, summary: 'the run’s work is not committed yet' },
  repo_locked: { status: 409, summary: 'another git operation holds the repository; retry' },
  branch_missing: { status: 409, summary: 'the task branch or base branch no longer exists' },
  body_too_large: { status: 413, summary: 'the request body is over the size limit' },
  unsupported_media_type: { status: 415, summary: 'send JSON (Content-Type: application/json)' },
  range_not_satisfiable: { status: 416, summary: 'the offset is past the end of the log' },
  too_many_auth_failures: { status: 429, summary: 'too many failed authentications; wait' },
  internal: { status: 500, summary: 'an unexpected error; see the server log' },
  unavailable: { status: 503, summary: 'the store is not reachable; retry' },
} as const satisfies Record<string, { status: number; summary: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** An error raised by the HTTP layer itself (auth, validation, ranges). */
export class HttpError extends AgentboardError {
  readonly status: number;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { details });
    this.status = ERROR_CATALOG[code].status;
  }
}

/** The status and JSON body for any thrown value: typed errors map by code, the rest are 500s. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody } {
  if (err instanceof HttpError) return respond(err.status, err.code, err.message, err.details);
  if (err instanceof AgentboardError) {
    const known = ERROR_CATALOG[err.code as ErrorCode] as { status: number } | undefined;
    const status = known?.status ?? (err.code.startsWith('store_') ? 503 : 500);
    return respond(
      status,
      known ? err.code : status === 503 ? 'unavailable' : 'internal',
      err.message,
      err.details,
    );
  }
  const fst = fastifyError(err);
  if (fst) return fst;
  return respond(500, 'internal', 'an unexpected error; the server log has the details');
}

function respond(status: number, code: string, message: string, details?: Record<string, unknown>) {
  const body: ErrorBody = { error: { code, message } };
  if (details && Object.keys(details).length > 0) body.error.details = details;
  return { status, body };
}

/** Errors Fastify raises before a handler runs: body parsing, size, media type. */
function fastifyError(err: unknown): { status: number; body: ErrorBody } | undefined {
  const e = err as { code?: string; statusCode?: number; message?: string };
  switch (e.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return respond(400, 'invalid_json', 'the body is not valid JSON: send a JSON object');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return respond(413, 'body_too_large', 'the request body is over the size limit (2 MiB)');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return respond(
        415,
        'unsupported_media_type',
        'send the body as JSON with Content-Type: application/json',
      );
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return respond(400, 'invalid_request', e.message ?? 'the request is malformed');
  }
  return undefined;
}
