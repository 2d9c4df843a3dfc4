/**
 * Requests no person decided: denied as `expired` past their agent's
 * approval_timeout, or `cancelled` when their run ends first.
 */
import { formatDuration } from '../domain/exit.js';
import { decideApproval, listApprovals as listRows } from '../store/approvals.js';
import type { Tx } from '../store/store.js';
import { decidedEvent } from './approvals.js';
import type { App } from './context.js';

/** The approval_timeout of an agent: its own, else the board's default; undefined waits forever. */
function timeoutOf(app: App, agent: string): number | undefined {
  return app.config.agents[agent]?.approval_timeout ?? app.config.defaults.approval_timeout;
}

/** Pending requests past their agent's approval_timeout are denied as `expired`; how many. */
export async function expireApprovals(app: App): Promise<number> {
  const limits = [
    app.config.defaults.approval_timeout,
    ...Object.values(app.config.agents).map((a) => a.approval_timeout),
  ].filter((t): t is number => t !== undefined);
  if (limits.length === 0) return 0;
  const now = app.clock.now();
  const due = await listRows(app.store.db, {
    state: 'pending',
    askedBefore: now - Math.min(...limits),
    order: 'asc',
  });
  let n = 0;
  for (const row of due) {
    const t = timeoutOf(app, row.agent);
    if (t === undefined || now - row.asked_at < t) continue;
    const message = `No one decided within ${formatDuration(t)} (approval_timeout), so this tool use was not allowed. Do not retry it as is: finish what you can without it, or say on the board what you need and why.`;
    const done = await app.store.tx(async (tx) => {
      if (
        !(await decideApproval(tx, row.id, {
          state: 'expired',
          decidedBy: 'timeout',
          message,
          rule: null,
        }))
      )
        return false;
      await decidedEvent(tx, row, 'expired', 'timeout', null);
      return true;
    });
    if (done) n++;
  }
  return n;
}

/** A run ended: its pending requests are cancelled, in the transaction that ends it. */
export async function cancelApprovalsOfRun(tx: Tx, run: { id: string }): Promise<void> {
  const pending = await listRows(tx.db, { runIds: [run.id], state: 'pending' });
  const message = `run ${run.id} ended before anyone decided`;
  for (const row of pending) {
    if (
      !(await decideApproval(tx, row.id, {
        state: 'cancelled',
        decidedBy: 'run-ended',
        message,
        rule: null,
      }))
    )
      continue;
    await decidedEvent(tx, row, 'cancelled', 'run-ended', null);
  }
}
