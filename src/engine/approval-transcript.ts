/**
 * A run's transcript shows the approvals its agent asked for and their
 * decisions. They are decided anywhere (another server, the CLI), so the
 * engine reads the approval rows of the runs it supervises when it hears an
 * approval event, on each monitor pass, and once more when a run's agent has
 * exited, and notes what its transcripts do not show yet. What a transcript already
 * shows is read back from the stored events once per run, so a restart
 * neither loses nor repeats a line.
 */
import type { ApprovalState } from '../contract/vocabulary.js';
import { type ApprovalRow, listApprovals } from '../store/approvals.js';
import { readRunEvents } from '../store/run-events.js';
import type { EngineContext } from './context.js';
import type { LiveRun } from './live-run.js';

/** Per run: each approval's state as its transcript last showed it. */
const shown = new WeakMap<LiveRun, Map<number, ApprovalState>>();
/** More approval lines than a transcript would ever hold. */
const READ_BACK = 10_000;

/** One pass at a time per engine: two passes noting the same row would repeat its line. */
const passes = new WeakMap<EngineContext, Promise<void>>();

/**
 * Notes what the transcripts of `runs` (default: the engine's live runs that
 * have not exited) do not show yet. Called when an approval event is heard,
 * on each monitor pass for decisions made elsewhere, and for a run whose
 * agent exited just before its transcript is finished.
 */
export function recordApprovals(ctx: EngineContext, runs?: LiveRun[]): Promise<void> {
  const next = (passes.get(ctx) ?? Promise.resolve()).then(() => recordPass(ctx, runs));
  passes.set(
    ctx,
    next.catch(() => {}),
  );
  return next;
}

async function recordPass(ctx: EngineContext, only?: LiveRun[]): Promise<void> {
  const runs = (only ?? [...ctx.live.values()].filter((l) => !l.hasExited)).filter(
    (l) => l.transcript,
  );
  if (runs.length === 0) return;
  const rows = await listApprovals(ctx.app.store.db, {
    runIds: runs.map((l) => l.id),
    order: 'asc',
  });
  if (rows.length === 0) return;
  const byRun = new Map<string, ApprovalRow[]>();
  for (const r of rows) byRun.set(r.run_id, [...(byRun.get(r.run_id) ?? []), r]);
  for (const live of runs) {
    const own = byRun.get(live.id);
    if (own) await note(ctx, live, own);
  }
}

async function note(ctx: EngineContext, live: LiveRun, rows: ApprovalRow[]): Promise<void> {
  const seen = shown.get(live) ?? (await readBack(ctx, live));
  shown.set(live, seen);
  for (const r of rows) {
    const was = seen.get(r.id);
    if (was === r.state) continue;
    const line = {
      type: 'approval' as const,
      approvalId: r.id,
      toolUseId: r.tool_use_id,
      tool: r.tool,
    };
    if (was === undefined)
      live.transcript?.note({ ...line, state: 'pending', by: null, message: null });
    if (r.state !== 'pending')
      live.transcript?.note({ ...line, state: r.state, by: r.decided_by, message: r.message });
    seen.set(r.id, r.state);
  }
}

async function readBack(ctx: EngineContext, live: LiveRun): Promise<Map<number, ApprovalState>> {
  const events = await readRunEvents(ctx.app.store.db, live.id, {
    afterSeq: 0,
    limit: READ_BACK,
    types: ['approval'],
  });
  const seen = new Map<number, ApprovalState>();
  for (const e of events)
    if (e.event.type === 'approval') seen.set(e.event.approvalId, e.event.state);
  return seen;
}
