/** Scenarios shared by the tests that drive the real CLIs. Not a test file. */
import type { CliKind } from './cli-env.js';
import type { Scenario } from './scenario.js';

/** A shell tool call that writes out.txt, a final answer, and a turn for a resumed follow-up. */
export const SHELL_SUCCESS: Scenario = [
  { text: 'I will create the file.', tool: { shell: 'echo hello > out.txt && cat out.txt' } },
  { text: 'Created out.txt containing hello. DONE' },
  { text: 'Resumed: I created out.txt earlier. DONE' },
];

/** What the scripted API says when it refuses the key; each CLI shows it verbatim. */
export const AUTH_MESSAGE = 'scripted-auth-failure: key revoked';

/** A 401 on every request, in each API's own error shape. */
export const AUTH_ERROR: Record<CliKind, Scenario> = {
  claude: {
    status: 401,
    body: { type: 'error', error: { type: 'authentication_error', message: AUTH_MESSAGE } },
  },
  codex: {
    status: 401,
    body: {
      error: { message: AUTH_MESSAGE, type: 'invalid_request_error', code: 'invalid_api_key' },
    },
  },
  gemini: {
    status: 401,
    body: { error: { code: 401, message: AUTH_MESSAGE, status: 'UNAUTHENTICATED' } },
  },
};
