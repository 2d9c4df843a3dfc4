/**
 * Which way a command reaches the board. Inside a run (AGENTBOARD_TOKEN set
 * by the launcher), or wherever AGENTBOARD_URL and AGENTBOARD_TOKEN are both
 * set, it goes through the API with that token; otherwise it opens the home
 * itself, as its owner. An agent never opens the database: the commands that
 * have no API way in refuse inside a run (with-app.ts).
 */
import { type BoardAccess, localBoard } from '../app/board-access.js';
import { looksLikeRunToken } from '../app/run-token.js';
import { environmentRedactor } from '../app/secrets.js';
import { remoteBoard } from '../client/remote-board.js';
import { ConfigError } from '../domain/errors.js';
import { AGENT_TOKEN_ENV, AGENT_URL_ENV } from '../engine/agent-env.js';
import { redactOutputWith } from './output.js';
import { withApp } from './with-app.js';

export interface RemoteTarget {
  url: string;
  token: string;
}

/** The API this process must use, if any. */
export function remoteTarget(env: NodeJS.ProcessEnv = process.env): RemoteTarget | null {
  const token = env[AGENT_TOKEN_ENV] ?? '';
  const url = env[AGENT_URL_ENV] ?? '';
  if (!token) return null;
  if (!url) {
    if (!looksLikeRunToken(token)) return null;
    throw new ConfigError(
      `this run cannot reach the board: its worker knows no API address (${AGENT_URL_ENV}); start \`agentboard worker\` with ${AGENT_URL_ENV}=http://<board host>:<port>`,
    );
  }
  return { url, token };
}

/** Runs `fn` against the board, through the API or opened here (and then closed). */
export async function withBoard<T>(fn: (board: BoardAccess) => Promise<T>): Promise<T> {
  const remote = remoteTarget();
  if (!remote) return withApp((app) => fn(localBoard(app)));
  // The API masks what it sends; this masks what this process itself knows.
  redactOutputWith(environmentRedactor());
  return fn(remoteBoard(remote.url, remote.token));
}
