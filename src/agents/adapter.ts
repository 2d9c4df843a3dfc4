import type { AgentConfig } from '../config/schema.js';
import type { AgentEvent, ErrorCategory, TranscriptParser } from './events.js';

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
  /** Where the agent starts, and the board's home: the board's files are not the agent's to write. */
  cwd: string;
  boardHome: string;
  /**
   * The user's opt-in to start an agent that could write the board's files
   * (its CLI bypasses its permissions, or cannot protect a path) while the
   * home is inside its workspace. Unset: such a start is refused.
   */
  boardWritesAllowed?: boolean;
}

/** The versions of a CLI its adapter was tested with, both ends included. */
export interface VersionRange {
  min: string;
  max: string;
}

/** What an adapter recognised in an exit: the category decides that it is not retried. */
export interface ExitDiagnosis {
  category: ErrorCategory;
  /** What the CLI or provider said, in one line (no stack trace, no escape codes). */
  message: string;
}

/** One agent CLI: how to start it headless, and how to read what it prints. */
export interface AgentAdapter {
  kind: AgentConfig['kind'];
  /** The environment variable that carries the API key for this CLI. */
  tokenEnv: string;
  /** The versions this adapter was tested with; `validate` and `serve` warn outside it. */
  testedVersions: VersionRange | null;
  versionArgs: string[];
  buildInvocation(ctx: InvocationContext): Invocation;
  /** A parser of stdout; `saved` is a snapshot an earlier parser of the same run took. */
  parser(saved?: unknown): TranscriptParser;
  /**
   * A parser of stderr, for CLIs that print retry notices or fatal errors only
   * there. Only its `retry` and `error` events are used.
   */
  stderrParser?(): TranscriptParser;
  /**
   * Reads an exit the stdout transcript did not explain: the CLI's own exit
   * codes for auth and configuration errors, a usage error, a key rejected
   * in plain text on stderr. null when nothing is recognised.
   */
  diagnoseExit?(exit: { code: number | null; stderrTail: string }): ExitDiagnosis | null;
  /**
   * For CLIs that keep their usage out of stdout but write it to their own
   * session files: `usage`/`cost` events read after the agent exited. `env`
   * is the environment the agent ran with (its HOME, the CLI's own dirs).
   */
  usageAfterExit?(o: { sessionId: string; env: NodeJS.ProcessEnv }): AgentEvent[];
}
