/**
 * The setup command (e.g. `npm ci`) runs inside the run's supervised process,
 * just before the agent: its output lands in the run's logs, and a server
 * crash during it changes nothing (the shim records the exit as for any run).
 *
 * The wrapper script is a constant; the user's command reaches it through an
 * environment variable and the agent's argv as "$@", so nothing a task says
 * is parsed by a shell. The setup gets /dev/null as stdin (the prompt is the
 * agent's) and writes to stderr, since stdout is the agent's transcript.
 */
export const SETUP_ENV = 'AGENTBOARD_SETUP';

const SETUP_SCRIPT = [
  `/bin/sh -c "$${SETUP_ENV}" </dev/null >&2`,
  'c=$?',
  `if [ "$c" -ne 0 ]; then echo "agentboard: setup command failed (exit $c): $${SETUP_ENV}" >&2; exit "$c"; fi`,
  'exec "$@"',
].join('\n');

/** The argv and extra environment that run `setup`, then exec the agent's own argv. */
export function withSetup(
  argv: string[],
  setup: string,
): { argv: string[]; env: Record<string, string> } {
  return {
    argv: ['/bin/sh', '-c', SETUP_SCRIPT, 'agentboard-setup', ...argv],
    env: { [SETUP_ENV]: setup },
  };
}
