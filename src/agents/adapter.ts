import type { AgentConfig } from '../config/schema.js';
import type { TranscriptParser } from './events.js';

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
  /** Budget for this run, for CLIs with their own budget flag. */
  maxCostUsd: number | null;
}

/** One agent CLI: how to start it headless, and how to read what it prints. */
export interface AgentAdapter {
  kind: AgentConfig['kind'];
  /** The environment variable that carries the API key for this CLI. */
  tokenEnv: string;
  /** The oldest version we have tested; `validate` warns below it. */
  minVersion: string | null;
  versionArgs: string[];
  buildInvocation(ctx: InvocationContext): Invocation;
  parser(): TranscriptParser;
}
