import { agentCommand } from '../config/schema.js';
import type { AgentAdapter, Invocation } from './adapter.js';

/** Any program: argv from config, the prompt on stdin, plain text output. */
export const commandAdapter: AgentAdapter = {
  kind: 'command',
  tokenEnv: 'AGENTBOARD_AGENT_TOKEN',
  buildInvocation({ agent, token }): Invocation {
    return {
      argv: [agentCommand(agent), ...agent.args],
      env: token ? { AGENTBOARD_AGENT_TOKEN: token } : ({} as Record<string, string>),
      stdin: 'prompt',
    };
  },
};
