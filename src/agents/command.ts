import { agentCommand } from '../config/schema.js';
import type { AgentAdapter, Invocation } from './adapter.js';
import type { TranscriptParser } from './events.js';

/** Any program: argv from config, the prompt on stdin, plain text lines as messages. */
export const commandAdapter: AgentAdapter = {
  kind: 'command',
  tokenEnv: 'AGENTBOARD_AGENT_TOKEN',
  testedVersions: null,
  versionArgs: ['--version'],
  buildInvocation({ agent, token }): Invocation {
    const env: Record<string, string> = token ? { AGENTBOARD_AGENT_TOKEN: token } : {};
    return { argv: [agentCommand(agent), ...agent.args], env, stdin: 'prompt' };
  },
  parser: textParser,
};

export function textParser(): TranscriptParser {
  return {
    line: (text) => (text.length > 0 ? [{ type: 'message', text }] : []),
    end: () => [],
  };
}
