import type { AgentConfig } from '../config/schema.js';

/** What the launcher needs to start an agent: never a shell string. */
export interface Invocation {
  argv: string[];
  env: Record<string, string>;
  /** `prompt`: the prompt file is the agent's stdin. `none`: it is in argv already. */
  stdin: 'prompt' | 'none';
}

export interface InvocationContext {
  name: string;
  agent: AgentConfig;
  prompt: string;
  resumeSessionId: string | null;
  /** The API key, already read from token / token_file; null to rely on the environment. */
  token: string | null;
  isRoot: boolean;
  env: NodeJS.ProcessEnv;
}

export interface AgentAdapter {
  kind: AgentConfig['kind'];
  /** The environment variable that carries the API key for this CLI. */
  tokenEnv: string;
  buildInvocation(ctx: InvocationContext): Invocation;
}
