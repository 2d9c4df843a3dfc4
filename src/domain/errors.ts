/**
 * Typed errors. Every error a user can see carries a stable `code` (the API's
 * error catalog reuses it) and a message that says what to do next.
 * `exitCode` follows the CLI contract: 1 = failure, 2 = usage error.
 */
export class AgentboardError extends Error {
  readonly code: string;
  readonly exitCode: 1 | 2;
  readonly details: Record<string, unknown>;

  constructor(
    code: string,
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
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
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
  constructor(code: string, message: string) {
    super(code, message);
  }
}
