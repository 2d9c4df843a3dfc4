/**
 * A run's own API token: what its agent calls the board with (`agentboard
 * bus post`, `task add --parent`, MCP) instead of the database or the
 * owner's token. The agent holds the token; the run row holds only its
 * SHA-256. It works while the run is claimed or running, on any server of
 * the board (the row is the truth), and stops working the moment the run
 * ends. What it may do is the task's own business: see server/run-scope.ts.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isRunId } from '../domain/ids.js';
import { getRun } from '../store/runs.js';
import { getTask } from '../store/tasks.js';
import type { App } from './context.js';

const PREFIX = 'abr_';
/** The run id is in the token so a check is one row read, not a search. */
const TOKEN = /^abr_(r[0-9a-z]{22})_([A-Za-z0-9_-]{32})$/;

export interface RunToken {
  token: string;
  /** What the run row keeps. */
  hash: string;
}

export interface RunPrincipal {
  runId: string;
  taskId: number;
  /** The run's agent: its heartbeat reviews the tasks assigned to it. */
  agent: string;
}

function hashOf(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newRunToken(runId: string): RunToken {
  const token = `${PREFIX}${runId}_${randomBytes(24).toString('base64url')}`;
  return { token, hash: hashOf(token) };
}

/** Whether a presented token claims to be a run's (it is then judged as one, never as the owner's). */
export function looksLikeRunToken(token: string): boolean {
  return token.startsWith(PREFIX);
}

/** The run a token belongs to, while that run is active; null for anything else. */
export async function authenticateRunToken(app: App, token: string): Promise<RunPrincipal | null> {
  const m = TOKEN.exec(token);
  const runId = m?.[1];
  if (!runId || !isRunId(runId)) return null;
  const run = await getRun(app.store.db, runId);
  if (!run?.api_token_hash || (run.state !== 'claimed' && run.state !== 'running')) return null;
  const want = Buffer.from(run.api_token_hash, 'hex');
  const got = Buffer.from(hashOf(token), 'hex');
  if (want.length !== got.length || !timingSafeEqual(want, got)) return null;
  return { runId, taskId: run.task_id, agent: run.agent };
}

/** The most parents followed: deeper trees are refused rather than walked forever. */
const MAX_DEPTH = 64;

/**
 * Whether a run may write about `taskId`: its own task or one of its
 * subtasks at any depth, or a task assigned to its agent (the agent's own
 * work, which its heartbeat reviews).
 */
export async function isWithinRunTask(
  app: App,
  principal: RunPrincipal,
  taskId: number,
): Promise<boolean> {
  let id: number | null = taskId;
  for (let depth = 0; id !== null && depth < MAX_DEPTH; depth++) {
    if (id === principal.taskId) return true;
    const task = await getTask(app.store.db, id);
    if (depth === 0 && task?.agent === principal.agent) return true;
    id = task?.parent_id ?? null;
  }
  return false;
}
