import { runGc } from '../app/gc.js';
import { claimMaintenance, recordMaintenance } from '../store/workspaces.js';
import type { EngineContext } from './context.js';

export const GC_JOB = 'gc';

/** How often the engine looks whether gc is due: the row decides, the timer only wakes. */
export function gcCheckInterval(everyMs: number): number {
  return Math.max(1000, Math.min(everyMs, 60_000));
}

/**
 * Runs the configured periodic gc when it is due. The last run time is a row
 * claimed in a transaction, so a restart does not reset the schedule and two
 * engines never both run the same period.
 */
export async function scheduledGc(ctx: EngineContext): Promise<void> {
  const { app } = ctx;
  const gc = app.config.board.gc;
  if (gc.every === undefined) return;
  const every = gc.every;
  const due = await app.store.tx((tx) => claimMaintenance(tx, GC_JOB, every));
  if (!due) return;
  const report = await runGc(app, {
    olderThanMs: gc.older_than,
    keepFailed: gc.keep_failed,
    dryRun: false,
    // Never the one full VACUUM here: it would stop the server while it runs.
    fullVacuum: false,
  });
  const summary = JSON.stringify({
    removed: report.removed.map((i) => `${i.kind}:${i.id}`),
    skipped: report.skipped.length,
    bytesFreed: report.bytesFreed,
    rows: report.rows,
    outputRemoved: report.outputRemoved,
    space: report.space,
  });
  await app.store.tx((tx) => recordMaintenance(tx, GC_JOB, summary));
  const pruned = Object.values(report.rows).reduce((a, b) => a + b, 0);
  if (report.removed.length > 0 || pruned > 0) {
    const space = report.space
      ? `; database ${report.space.mode}, ${report.space.bytesBefore - report.space.bytesAfter} bytes returned in ${report.space.ms} ms`
      : '';
    ctx.log.info(
      `gc removed ${report.removed.length} directories (${report.bytesFreed} bytes) and ${pruned} rows (${JSON.stringify(report.rows)})${space}`,
    );
  }
}
