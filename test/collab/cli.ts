/**
 * The real CLI in a child process (`node dist/src/cli/main.js …`) against a
 * board home, for the collaboration tests. Not a test file itself.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { boardEnv, CLI_MAIN, type CliResult, execCli } from '../support/server.js';

export type { CliResult };

/** `agentboard <args>` on `home` as the user "tester", to completion. */
export function runCli(
  home: string,
  args: string[],
  o: { input?: string; env?: Record<string, string> } = {},
): Promise<CliResult> {
  return execCli(args, {
    env: boardEnv(home, { USER: 'tester', ...o.env }),
    ...(o.input !== undefined ? { input: o.input } : {}),
  });
}

/** Runs a command that must succeed with `--json`, returning the parsed output. */
export async function cliJson(home: string, args: string[], o: { input?: string } = {}) {
  const r = await runCli(home, [...args, '--json'], o);
  assert.equal(r.code, 0, `${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A long-running CLI command (`bus read --follow`): its output so far, and a way to stop it. */
export function spawnCli(home: string, args: string[]): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    env: boardEnv(home, { USER: 'tester' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    out += c;
  });
  return { child, out: () => out };
}
