import { type App, openApp } from '../app/context.js';
import { boardRedactor } from '../app/secrets.js';
import { AgentboardError } from '../domain/errors.js';
import { AGENT_TOKEN_ENV } from '../engine/agent-env.js';
import { redactOutputWith } from './output.js';

/**
 * Opens the board for one command and always closes it, so the process can
 * exit. From then on, everything the command prints passes the board's
 * redactor.
 */
export async function withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
  if (process.env[AGENT_TOKEN_ENV]) {
    // Inside a run, or aimed at a remote board: only the API is the way in (board.ts).
    throw new AgentboardError(
      'outside_run_scope',
      `with ${AGENT_TOKEN_ENV} set (inside a run) this command cannot reach the board: an agent reads the board, posts to the bus (bus post/read), comments on and adds subtasks under its task (task add --parent, task comment, task show/list, task wait); ask a person on the bus for the rest`,
    );
  }
  const app = await openApp();
  redactOutputWith(boardRedactor(app));
  try {
    return await fn(app);
  } finally {
    await app.store.close();
  }
}
