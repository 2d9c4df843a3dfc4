import { agentCommand } from '../config/schema.js';
import type { AgentAdapter } from './adapter.js';
import { jsonLinesParser } from './events.js';

/** Placeholder: being written (issue 14). */
export const copilotAdapter: AgentAdapter = {
  kind: 'copilot',
  tokenEnv: 'OPENAI_API_KEY',
  testedVersions: null,
  versionArgs: ['--version'],
  buildInvocation: ({ agent }) => ({ argv: [agentCommand(agent)], env: {}, stdin: 'prompt' }),
  parser: () => jsonLinesParser(() => null),
};
