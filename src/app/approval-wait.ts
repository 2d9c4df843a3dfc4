/**
 * Waiting for a person's decision (the agent's side of an approval, and
 * `GET /approvals/:id/wait`). The row is the truth; what wakes the waiter is
 * cheap: this process committing an approval event, another process's
 * commit (SQLite's data_version, one PRAGMA per poll; PostgreSQL's NOTIFY),
 * or, on PostgreSQL without a listener, a short re-read.
 */
import type { ApprovalView } from '../contract/approvals.js';
import { getApproval } from '../store/approvals.js';
import type { EventRecord } from '../store/events.js';
import { approvalNotFound, approvalViews } from './approvals.js';
import type { App } from './context.js';

const SQLITE_POLL_MS = 50;
const POSTGRES_POLL_MS = 250;
/** With LISTEN up, a re-read only in case a notification was lost. */
const LISTENING_POLL_MS = 2000;

/**
 * The request once it is decided, or as it stands (pending) when `timeoutMs`
 * passes. An aborted `signal` (the client hung up) ends the wait with its reason.
 */
export async function waitApproval(
  app: App,
  id: number,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ApprovalView> {
  const deadline = Date.now() + timeoutMs;
  const store = app.store;
  let wake: (() => void) | null = null;
  let changed = false;
  const poke = () => {
    changed = true;
    wake?.();
  };
  const onEvents = (events: EventRecord[]) => {
    if (events.some((e) => e.type === 'approval.decided' && e.data.approvalId === id)) poke();
  };
  const onExternal = (types: string[]) => {
    if (types.includes('approval.decided')) poke();
  };
  store.changes.on('events', onEvents);
  store.changes.on('external', onExternal);
  signal?.addEventListener('abort', poke);
  try {
    for (;;) {
      changed = false;
      const version = store.dataVersion();
      const row = await getApproval(store.db, id);
      if (!row) throw approvalNotFound(id);
      if (row.state !== 'pending' || Date.now() >= deadline) {
        const [view] = await approvalViews(app, [row]);
        return view as ApprovalView;
      }
      const sqlite = version !== null;
      const step = sqlite ? SQLITE_POLL_MS : store.listening ? LISTENING_POLL_MS : POSTGRES_POLL_MS;
      for (;;) {
        if (signal?.aborted) throw signal.reason;
        const left = deadline - Date.now();
        if (left <= 0 || changed) break;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(step, left));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = null;
        if (!sqlite || store.dataVersion() !== version) break;
      }
    }
  } finally {
    store.changes.off('events', onEvents);
    store.changes.off('external', onExternal);
    signal?.removeEventListener('abort', poke);
  }
}
