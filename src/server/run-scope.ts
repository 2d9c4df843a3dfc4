/**
 * What a run's own token may do (app/run-token.ts): read the board, and
 * write only where its task is concerned — post to the bus about its task,
 * a subtask or the board, comment on them, add subtasks under them. Every
 * other write (moving cards, runs, merges, schedules, a `verifyCommand`) is
 * a person's: an agent asks for it on the bus.
 */
import type { FastifyRequest } from 'fastify';
import type { App } from '../app/context.js';
import { isWithinRunTask, type RunPrincipal } from '../app/run-token.js';
import { formatTaskId } from '../domain/ids.js';
import { HttpError } from './error-catalog.js';
import type { RunScopeCheck } from './route.js';

export function outsideRunScope(principal: RunPrincipal, what: string): HttpError {
  return new HttpError(
    'outside_run_scope',
    `run ${principal.runId} of ${formatTaskId(principal.taskId)} may not ${what}: a run's token reads the board, posts to the bus, and comments on and adds subtasks under its own task; ask a person on the bus for the rest`,
  );
}

/** The refusal for a request made with a run's token (set by security.ts before any route runs). */
export function refusedToRun(req: FastifyRequest, what: string): HttpError {
  const principal = req.runPrincipal;
  if (!principal) throw new Error('refusedToRun outside a run-scoped request');
  return outsideRunScope(principal, what);
}

export function runScopeCheck(app: App): RunScopeCheck {
  return async (principal, target) => {
    if (target === 'board') return;
    if (await isWithinRunTask(app, principal, target)) return;
    throw outsideRunScope(principal, `change ${formatTaskId(target)}, which is outside its task`);
  };
}
