/**
 * Plain reads of runs, workers and counts for the CLI and MCP, which go
 * through app/ rather than the store (the linter keeps that layering).
 */
import { getRun, listRuns, type RunFilter, type RunRow } from '../store/runs.js';
import { countTasksByStatus, type TaskFilter } from '../store/tasks.js';
import { getWorker, type WorkerRow } from '../store/workers.js';
import type { App } from './context.js';

export type { RunFilter, RunRow, WorkerRow };

export function findRun(app: App, id: string): Promise<RunRow | undefined> {
  return getRun(app.store.db, id);
}

export function findRuns(app: App, filter: RunFilter): Promise<RunRow[]> {
  return listRuns(app.store.db, filter);
}

export function findWorker(app: App, id: string): Promise<WorkerRow | undefined> {
  return getWorker(app.store.db, id);
}

/** Cards per column, for the same filter as a listing. */
export function countTasks(app: App, filter: TaskFilter = {}): Promise<Record<string, number>> {
  return countTasksByStatus(app.store.db, filter);
}
