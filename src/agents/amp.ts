import { agentCommand } from '../config/schema.js';
import { plainLine } from '../domain/plain-text.js';
import type { AgentAdapter, ExitDiagnosis, Invocation } from './adapter.js';
import { homeInsideCwd, refuseUnprotected } from './board-files.js';
import { claudeParser } from './claude.js';
import { checkedSessionId } from './cli-failures.js';

const AMP_THREAD = {
  pattern: /^T-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i,
  name: 'T- and a UUID',
};

/**
 * Amp: `amp --execute --stream-json`, whose stream follows Claude Code's stream-json. Board files:
 * it has no known rule on its command line to keep out of a folder, so a home inside the cwd is
 * refused.
 */
export const ampAdapter: AgentAdapter = {
  kind: 'amp',
  tokenEnv: 'AMP_API_KEY',
  testedVersions: { min: '0.0.1', max: '0.0.1790142911' },
  versionArgs: ['--version'],
  buildInvocation(ctx): Invocation {
    const { agent, resumeSessionId, token } = ctx;
    if (homeInsideCwd(ctx.cwd, ctx.boardHome))
      refuseUnprotected(ctx, 'Amp takes no rule on its command line to keep out of a folder');
    const argv = [agentCommand(agent)];
    // Amp's thread ids are T-<uuid>: anything else an agent reported is refused, never passed.
    if (resumeSessionId)
      argv.push('threads', 'continue', checkedSessionId('Amp', resumeSessionId, AMP_THREAD));
    argv.push('--execute', '--stream-json');
    if (agent.permission_mode === 'dangerously-allow-all') argv.push('--dangerously-allow-all');
    argv.push(...agent.args);
    return { argv, env: token ? { AMP_API_KEY: token } : {}, stdin: 'prompt' };
  },
  parser: claudeParser,
  diagnoseExit: ampDiagnoseExit,
};

/**
 * Amp refuses a bad key before any stream (recorded: stderr "Error: Invalid or
 * missing API key. Run 'amp login' to authenticate.", exit 1, empty stdout).
 */
export function ampDiagnoseExit(exit: {
  code: number | null;
  stderrTail: string;
}): ExitDiagnosis | null {
  if (exit.code === 0 || exit.code === null) return null;
  const line = exit.stderrTail
    .split(/\r?\n/)
    .find((l) => /Invalid (or missing )?API key|amp login|\b401\b|Unauthorized/i.test(l));
  if (!line) return null;
  const message = plainLine(line.replace(/^Error:\s*/, ''));
  return { category: /expired/i.test(message) ? 'auth_expired' : 'auth', message };
}
