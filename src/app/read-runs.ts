/** Reading runs for the API: lists, one run's row, its transcript page. */

import type { TranscriptEvent } from '../contract/views.js';
import type { RunState } from '../contract/vocabulary.js';
import { readRunEvents } from '../store/run-events.js';
import { getRun, listRuns, type RunRow } from '../store/runs.js';
import type { App } from './context.js';
import { assertOutputKept } from './run-output.js';
import { resolveRun } from './runs.js';
import { type RunView, supervisedRunView } from './views.js';
import { runViews, supervision } from './workers.js';

export type { RunRow };

/** A run's row, or undefined when there is none with that id. */
export function findRun(app: App, id: string): Promise<RunRow | undefined> {
  return getRun(app.store.db, id);
}

/** The task a run belongs to; undefined for an unknown run. */
export async function taskOfRun(app: App, id: string): Promise<number | undefined> {
  return (await getRun(app.store.db, id))?.task_id;
}

/** Runs, newest first, filtered; `unsupervised` judged on the database's word. */
export async function listRunViews(
  app: App,
  f: { taskId?: number; states?: RunState[]; agent?: string; limit: number },
): Promise<RunView[]> {
  return runViews(app, await listRuns(app.store.db, f));
}

/** One run's view, from a run id, a unique prefix or a task id (its latest run). */
export async function showRun(app: App, ref: string): Promise<RunView> {
  const run = await resolveRun(app, ref);
  return supervisedRunView(await supervision(app))(run);
}

/** The run's transcript events after a cursor; `output_removed` once gc removed them. */
export async function transcriptPage(
  app: App,
  ref: string,
  o: { after: number; limit: number; types?: string[] },
): Promise<{ items: TranscriptEvent[]; next: number; more: boolean }> {
  const run = await resolveRun(app, ref);
  assertOutputKept(run, 'transcript');
  const items = await readRunEvents(app.store.db, run.id, {
    afterSeq: o.after,
    limit: o.limit,
    types: o.types,
  });
  return {
    items: items.map((e) => ({ seq: e.seq, at: new Date(e.createdAt).toISOString(), ...e.event })),
    next: items.at(-1)?.seq ?? o.after,
    more: items.length === o.limit,
  };
}
