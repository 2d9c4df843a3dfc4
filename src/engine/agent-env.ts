import type { App } from '../app/context.js';
import { MEMORY_ENV } from '../app/profile.js';
import { formatTaskId } from '../domain/ids.js';
import { RUN_MARKER_ENV } from '../runner/run-tree.js';
import { WORKER_MARKER_ENV } from '../runner/worker-marker.js';
import type { RunRow } from '../store/runs.js';

/**
 * The board's own access, never an agent's: its database (and the password
 * PostgreSQL may read from the environment). An agent reaches the board
 * through the API with its run's token instead. An agent's `env:` in
 * config.yaml is laid on top, so an owner can still hand one over on purpose.
 */
const WITHHELD = ['AGENTBOARD_DATABASE_URL', 'PGPASSWORD', 'PGPASSFILE'] as const;

/** Where an agent's `agentboard` calls the board, and with what (cli/board-client.ts reads these). */
export const AGENT_URL_ENV = 'AGENTBOARD_URL';
export const AGENT_TOKEN_ENV = 'AGENTBOARD_TOKEN';

export interface AgentEnvInput {
  app: App;
  run: RunRow;
  workerId: string;
  /** The board's API for call-backs; null when this worker knows none. */
  apiUrl: string | null;
  runToken: string;
  memoryFile: string;
  /** The agent's `env:` from config, then its adapter's (API key, base URL). */
  layers: Record<string, string>[];
}

/** The environment an agent starts with: the board's, minus its secrets, plus the run's contract. */
export function agentEnv(i: AgentEnvInput): Record<string, string> {
  const inherited: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !(WITHHELD as readonly string[]).includes(k)) inherited[k] = v;
  }
  delete inherited[AGENT_URL_ENV];
  const env: Record<string, string> = Object.assign(inherited, ...i.layers, {
    AGENTBOARD_HOME: i.app.paths.home,
    AGENTBOARD_TASK_ID: formatTaskId(i.run.task_id),
    [RUN_MARKER_ENV]: i.run.id,
    [WORKER_MARKER_ENV]: i.workerId,
    AGENTBOARD_PARENT_RUN_ID: i.run.parent_run_id ?? '',
    AGENTBOARD_AGENT: i.run.agent,
    [MEMORY_ENV]: i.memoryFile,
    [AGENT_TOKEN_ENV]: i.runToken,
  });
  if (i.apiUrl) env[AGENT_URL_ENV] = i.apiUrl;
  return env;
}
