/** Scenarios shared by the tests that drive the real CLIs. Not a test file. */
import { CLI_KINDS, type CliKind } from './cli-env.js';
import type { CapturedRequest, Usage } from './http.js';
import type { ErrorScenario, ModelTurn, Scenario } from './scenario.js';

/** A shell tool call that writes out.txt, a final answer, and a turn for a resumed follow-up. */
export const SHELL_SUCCESS: ModelTurn[] = [
  { text: 'I will create the file.', tool: { shell: 'echo hello > out.txt && cat out.txt' } },
  { text: 'Created out.txt containing hello. DONE' },
  { text: 'Resumed: I created out.txt earlier. DONE' },
];

/** The final answer of {@link SHELL_SUCCESS}'s first run. */
export const SHELL_SUCCESS_FINAL = 'Created out.txt containing hello. DONE';

/**
 * The error body shape of the API each CLI kind is pointed at (see `startModelServer`). Kinds not
 * listed speak an OpenAI API (chat completions or Responses), which share one error shape.
 */
export type ErrorShape = 'anthropic' | 'openai' | 'gemini';
const SHAPES: Readonly<Record<string, ErrorShape>> = {
  claude: 'anthropic',
  // opencode is pointed at the Anthropic wire (`@ai-sdk/anthropic`).
  opencode: 'anthropic',
  codex: 'openai',
  copilot: 'openai',
  qwen: 'openai',
  gemini: 'gemini',
};
export function errorShape(kind: CliKind): ErrorShape {
  return SHAPES[kind] ?? 'openai';
}

/** One scenario per CLI kind (every kind in CLI_KINDS), from the error shape of its API. */
function byShape(make: (shape: ErrorShape) => Scenario): Record<CliKind, Scenario> {
  return Object.fromEntries(CLI_KINDS.map((k) => [k, make(errorShape(k))])) as Record<
    CliKind,
    Scenario
  >;
}

/** What the scripted API says when it refuses the key; each CLI shows it verbatim. */
export const AUTH_MESSAGE = 'scripted-auth-failure: key revoked';

function authBody(shape: ErrorShape, message: string): unknown {
  switch (shape) {
    case 'anthropic':
      return { type: 'error', error: { type: 'authentication_error', message } };
    case 'openai':
      return {
        error: { message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' },
      };
    case 'gemini':
      return { error: { code: 401, message, status: 'UNAUTHENTICATED' } };
  }
}

/** A 401 on every request, in each API's own error shape. */
export const AUTH_ERROR: Record<CliKind, Scenario> = byShape((shape) => ({
  status: 401,
  body: authBody(shape, AUTH_MESSAGE),
}));

/** What each provider says about an expired key (Gemini's is its real text). */
export const EXPIRED_MESSAGE: Record<ErrorShape, string> = {
  anthropic: 'invalid x-api-key: this API key has expired',
  openai: 'Your API key has expired. Please generate a new API key.',
  gemini: 'API key expired. Please renew the API key.',
};

function expiredScenario(shape: ErrorShape): ErrorScenario {
  if (shape === 'gemini')
    // What generativelanguage.googleapis.com really answers: a 400, not a 401.
    return {
      status: 400,
      body: {
        error: {
          code: 400,
          message: EXPIRED_MESSAGE.gemini,
          status: 'INVALID_ARGUMENT',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'API_KEY_INVALID',
              domain: 'googleapis.com',
              metadata: { service: 'generativelanguage.googleapis.com' },
            },
            {
              '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
              locale: 'en-US',
              message: EXPIRED_MESSAGE.gemini,
            },
          ],
        },
      },
    };
  return { status: 401, body: authBody(shape, EXPIRED_MESSAGE[shape]) };
}

/** An expired key on every request, in each provider's real shape. */
export const EXPIRED_KEY: Record<CliKind, Scenario> = byShape(expiredScenario);

function rateLimitBody(shape: ErrorShape, retryAfterSeconds: number): unknown {
  switch (shape) {
    case 'anthropic':
      return {
        type: 'error',
        error: { type: 'rate_limit_error', message: 'Scripted rate limit: slow down' },
      };
    case 'openai':
      return {
        error: {
          message: `Rate limit reached for requests. Please try again in ${retryAfterSeconds}s.`,
          type: 'requests',
          param: null,
          code: 'rate_limit_exceeded',
        },
      };
    case 'gemini':
      return {
        error: {
          code: 429,
          message: 'Resource has been exhausted (e.g. check quota).',
          status: 'RESOURCE_EXHAUSTED',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.RetryInfo',
              retryDelay: `${retryAfterSeconds}s`,
            },
          ],
        },
      };
  }
}

/**
 * 429 with `retry-after` for the first `times` requests, then {@link SHELL_SUCCESS}. The CLI needs
 * at least `times` retries.
 */
export function rateLimited(kind: CliKind, times = 2, retryAfterSeconds = 2): ErrorScenario {
  return {
    status: 429,
    body: rateLimitBody(errorShape(kind), retryAfterSeconds),
    headers: { 'retry-after': String(retryAfterSeconds) },
    times,
    afterwards: SHELL_SUCCESS,
  };
}

export const RATE_LIMITED: Record<CliKind, Scenario> = Object.fromEntries(
  CLI_KINDS.map((k) => [k, rateLimited(k)]),
) as Record<CliKind, Scenario>;

/**
 * {@link SHELL_SUCCESS} with the final answer's connection cut after its first delta, once. A CLI
 * that retries gets it whole; one that does not must not report success.
 */
export const CUT_MID_STREAM: ModelTurn[] = [
  SHELL_SUCCESS[0] as ModelTurn,
  { ...(SHELL_SUCCESS[1] as ModelTurn), cut: 1 },
  SHELL_SUCCESS[2] as ModelTurn,
];

/** The file the denied command would have written (it must not exist afterwards). */
export const DENIED_FILE = 'denied.txt';
export const DENIAL_FINAL = 'I was not allowed to run the command. DONE';

/**
 * The model asks for a shell command that the agent's permission mode refuses, then finishes.
 * (Codex runs commands inside its sandbox without asking: under `read-only` the write fails with
 * "Read-only file system", which its adapter reports as a denial.)
 */
export function permissionDenial(kind: CliKind): ModelTurn[] {
  // Codex 0.169.0 leaves a command its sandbox refuses within milliseconds out of its --json
  // output altogether (no command_execution item; seen 5 of 5 times with a bare write): nothing
  // there to count. A command that runs a moment first is reported, with the refusal.
  const write = `echo denied > ${DENIED_FILE}`;
  return [
    {
      text: 'I will run a command.',
      tool: {
        shell: kind === 'codex' ? `sleep 1; ${write}` : write,
        description: 'Write denied.txt',
      },
    },
    { text: DENIAL_FINAL },
  ];
}

export const PERMISSION_DENIAL: Record<CliKind, Scenario> = Object.fromEntries(
  CLI_KINDS.map((k) => [k, permissionDenial(k)]),
) as Record<CliKind, Scenario>;

/**
 * The usage the server reported for these requests, summed. Every request that reported usage
 * counts (side requests such as titles are billed too); errors and cut responses report none.
 */
export function usageOf(requests: readonly CapturedRequest[]): Usage & { requests: number } {
  const sum = { input: 0, output: 0, cacheRead: 0, requests: 0 };
  for (const r of requests) {
    if (!r.usage) continue;
    sum.input += r.usage.input;
    sum.output += r.usage.output;
    sum.cacheRead += r.usage.cacheRead;
    sum.requests++;
  }
  return sum;
}

/** The files the approval scenarios' shell commands write (issue 18, `approvals: board`). */
export const APPROVAL_FILES = ['approved-1.txt', 'approved-2.txt'] as const;
export const APPROVAL_FINAL = 'Finished asking. DONE';

/**
 * The model asks for one shell command (`touch`, which Claude Code's default mode asks about),
 * then for a second one with the same program when `twice`, then finishes. The second call is
 * what an "always allow" rule added for the first (`Bash(touch:*)`) should let through unasked:
 * no shell operator in either, which a prefix rule never matches.
 */
export function approvalShell(twice = false): ModelTurn[] {
  const [first, second] = APPROVAL_FILES;
  return [
    {
      text: 'I will write the first file.',
      tool: { shell: `touch ${first}`, description: `Create ${first}` },
    },
    ...(twice
      ? [
          {
            text: 'And the second one.',
            tool: { shell: `touch ${second}`, description: `Create ${second}` },
          },
        ]
      : []),
    { text: APPROVAL_FINAL },
  ];
}
