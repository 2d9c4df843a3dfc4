import { agentCommand } from '../config/schema.js';
import type { AgentAdapter, Invocation } from './adapter.js';
import { claudeParser } from './claude.js';

/** Amp: `amp --execute --stream-json`, whose stream follows Claude Code's stream-json. */
export const ampAdapter: AgentAdapter = {
  kind: 'amp',
  tokenEnv: 'AMP_API_KEY',
  testedVersions: { min: '0.0.1', max: '0.0.1790142911' },
  versionArgs: ['--version'],
  buildInvocation({ agent, resumeSessionId, token }): Invocation {
    const argv = [agentCommand(agent)];
    if (resumeSessionId) argv.push('threads', 'continue', resumeSessionId);
    argv.push('--execute', '--stream-json');
    if (agent.permission_mode === 'dangerously-allow-all') argv.push('--dangerously-allow-all');
    argv.push(...agent.args);
    return { argv, env: token ? { AMP_API_KEY: token } : {}, stdin: 'prompt' };
  },
  parser: claudeParser,
};
