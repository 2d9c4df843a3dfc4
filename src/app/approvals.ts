/**
 * Approvals (DESIGN.md §9): a tool use an agent asks a person to decide is a
 * row. The agent's side waits on the row, not on a connection, so a request
 * survives a server crash and a decision made after a restart lets the run
 * go on. Every change appends its event in the same transaction.
 */
import type { ApprovalView } from '../contract/approvals.js';
import type { ApprovalState } from '../contract/vocabulary.js';
import { approvalPreview } from '../domain/approval-subject.js';
import {
  allowsEveryUse,
  parseRule,
  ruleMatches,
  suggestedRule,
  type ToolUse,
} from '../domain/approvals.js';
import { ConflictError, NotFoundError, UsageError } from '../domain/errors.js';
import {
  type ApprovalRow,
  countApprovalsByState,
  decideApproval,
  getApproval,
  insertApproval,
  insertRule,
  listApprovals as listRows,
  lockRunRow,
  rulesOfTask,
} from '../store/approvals.js';
import { appendEvent } from '../store/events.js';
import { getRun, listRuns, type RunRow } from '../store/runs.js';
import type { Tx } from '../store/store.js';
import { approvalViewOf, parseApprovalInput } from './approval-views.js';
import type { App } from './context.js';

export interface ApprovalRequest {
  tool: string;
  input: Record<string, unknown>;
  toolUseId?: string;
}

/** Who decided when the caller does not say (the API's owner, the CLI's user). */
const DEFAULT_BY = 'user';

export function approvalNotFound(id: number): NotFoundError {
  return new NotFoundError('approval', `A-${id}`, 'list them with `agentboard approvals --all`');
}

/** The views of these rows, each with its run's working directory (what rules match against). */
export async function approvalViews(app: App, rows: ApprovalRow[]): Promise<ApprovalView[]> {
  const ids = [...new Set(rows.map((r) => r.run_id))];
  const runs = ids.length > 0 ? await listRuns(app.store.db, { ids }) : [];
  const cwd = new Map(runs.map((r) => [r.id, r.workdir ?? app.workdir]));
  const now = app.clock.now();
  return rows.map((r) => approvalViewOf(r, cwd.get(r.run_id) ?? app.workdir, now));
}

async function viewOf(app: App, row: ApprovalRow): Promise<ApprovalView> {
  const [v] = await approvalViews(app, [row]);
  return v as ApprovalView;
}

/**
 * An agent's request for its run, which must be claimed or running. A task
 * rule that matches allows it at once (decided by `rule:<rule>`); a request
 * for a tool use already asked about returns that row as it stands.
 */
export async function requestApproval(
  app: App,
  runId: string,
  req: ApprovalRequest,
): Promise<ApprovalView> {
  const row = await app.store.tx(async (tx) => {
    await lockRunRow(tx, runId);
    const run = await getRun(tx.db, runId);
    if (!run) throw new NotFoundError('run', runId);
    if (run.state !== 'claimed' && run.state !== 'running') {
      throw new ConflictError(
        'run_not_active',
        `run ${runId} is ${run.state}: only a claimed or running run can ask for approval`,
        { run: runId, state: run.state },
      );
    }
    const use: ToolUse = { tool: req.tool, input: req.input };
    const cwd = run.workdir ?? app.workdir;
    const rule = (await rulesOfTask(tx.db, run.task_id)).find((r) => ruleMatches(r.rule, use, cwd));
    const { row, created } = await insertApproval(tx, {
      task_id: run.task_id,
      run_id: run.id,
      agent: run.agent,
      tool: req.tool,
      input: JSON.stringify(req.input),
      tool_use_id: req.toolUseId ?? null,
      state: rule ? 'allowed' : 'pending',
      asked_at: tx.now,
      decided_at: rule ? tx.now : null,
      decided_by: rule ? `rule:${rule.rule}` : null,
      message: null,
      rule: null,
    });
    if (!created) return row;
    await appendEvent(tx, 'approval.requested', {
      taskId: run.task_id,
      runId: run.id,
      data: { approvalId: row.id, tool: row.tool, preview: approvalPreview(use) },
    });
    if (rule) await decidedEvent(tx, row, 'allowed', `rule:${rule.rule}`, null);
    return row;
  });
  return viewOf(app, row);
}

export async function decidedEvent(
  tx: Tx,
  row: ApprovalRow,
  state: Exclude<ApprovalState, 'pending'>,
  by: string,
  rule: string | null,
): Promise<void> {
  await appendEvent(tx, 'approval.decided', {
    taskId: row.task_id,
    runId: row.run_id,
    data: { approvalId: row.id, tool: row.tool, state, by, rule },
  });
}

/** Deciding twice is refused, and changes nothing. */
function alreadyDecided(row: ApprovalRow): ConflictError {
  const when = row.decided_at === null ? '' : ` at ${new Date(row.decided_at).toISOString()}`;
  return new ConflictError(
    'approval_decided',
    `A-${row.id} is already ${row.state}${row.decided_by ? ` (by ${row.decided_by}${when})` : ''}: nothing changed. A request is decided once; the agent asks again if it still needs the tool`,
    { approval: row.id, state: row.state, decidedBy: row.decided_by },
  );
}

/** A pending request whose run ended; cancelled by `pendingRow`. */
interface Ended {
  ended: ApprovalRow;
  why: string;
}

/**
 * The request to decide, still pending, with its run. A request whose run
 * has ended (its end missed it) is cancelled instead: no agent waits for it.
 */
async function pendingRow(tx: Tx, id: number): Promise<{ row: ApprovalRow; run: RunRow } | Ended> {
  const row = await getApproval(tx.db, id);
  if (!row) throw approvalNotFound(id);
  if (row.state !== 'pending') throw alreadyDecided(row);
  const run = await getRun(tx.db, row.run_id);
  if (run && (run.state === 'claimed' || run.state === 'running')) return { row, run };
  const why = run ? `run ${run.id} ended (${run.state})` : `run ${row.run_id} is gone`;
  const cancel = { state: 'cancelled', decidedBy: 'run-ended', rule: null } as const;
  if (await decideApproval(tx, row.id, { ...cancel, message: `${why} before anyone decided` }))
    await decidedEvent(tx, row, 'cancelled', 'run-ended', null);
  return { ended: row, why };
}

/**
 * Runs `decide` on the pending request in one transaction. A request whose
 * run ended is cancelled (committed) and the decision refused.
 */
async function onPending(
  app: App,
  id: number,
  decide: (tx: Tx, row: ApprovalRow, run: RunRow) => Promise<void>,
): Promise<ApprovalRow> {
  const out = await app.store.tx(async (tx) => {
    const p = await pendingRow(tx, id);
    if ('ended' in p) return p;
    await decide(tx, p.row, p.run);
    return p.row;
  });
  if (!('ended' in out)) return out;
  throw new ConflictError(
    'approval_decided',
    `A-${out.ended.id} is cancelled: ${out.why}, so no agent is waiting for a decision. Nothing was allowed or denied`,
    { approval: out.ended.id, state: 'cancelled', decidedBy: 'run-ended' },
  );
}

/** Decides `row` if still pending, else refuses as decided (someone was first). */
async function decide(
  tx: Tx,
  row: ApprovalRow,
  state: Exclude<ApprovalState, 'pending'>,
  o: { by: string; message: string | null; rule: string | null },
): Promise<void> {
  const ok = await decideApproval(tx, row.id, {
    state,
    decidedBy: o.by,
    message: o.message,
    rule: o.rule,
  });
  if (!ok) throw alreadyDecided((await getApproval(tx.db, row.id)) ?? row);
  await decidedEvent(tx, row, state, o.by, o.rule);
}

export interface AllowOptions {
  /** Also add a rule to the task (`rule`, or the request's suggested one). A `rule` implies it. */
  always?: boolean;
  rule?: string;
  by?: string;
}

/**
 * Allows a pending request. With `always`, the rule is added to the task,
 * and the task's other pending requests it matches are allowed with it.
 */
export async function allowApproval(
  app: App,
  id: number,
  o: AllowOptions = {},
): Promise<ApprovalView> {
  const by = o.by ?? DEFAULT_BY;
  const row = await onPending(app, id, async (tx, row, run) => {
    if (!o.always && o.rule === undefined) {
      await decide(tx, row, 'allowed', { by, message: null, rule: null });
      return;
    }
    const use = { tool: row.tool, input: parseApprovalInput(row.input) };
    const rule = (o.rule ?? suggestedRule(use, run.workdir ?? app.workdir))?.trim();
    if (!rule)
      throw new UsageError(
        `A-${row.id} has no rule to suggest that covers less than every ${row.tool} use: allow it once, or write the rule (--rule "…")`,
        { field: 'rule' },
      );
    const parsed = parseRule(rule);
    if (typeof parsed === 'string') throw new UsageError(parsed, { field: 'rule' });
    // Only a person who writes it adds a rule that allows every command or file.
    if (o.rule === undefined && allowsEveryUse(parsed))
      throw new UsageError(
        `A-${row.id}: the suggested rule ${rule} would allow every ${parsed.tool} use: allow it once, or write the rule (--rule "…")`,
        { field: 'rule' },
      );
    await decide(tx, row, 'allowed', { by, message: null, rule });
    await insertRule(tx, { task_id: row.task_id, rule, created_by: by });
    await allowMatching(app, tx, row.task_id, rule);
  });
  return viewOf(app, (await getApproval(app.store.db, row.id)) ?? row);
}

/** The task's pending requests a new rule covers are allowed by it. */
async function allowMatching(app: App, tx: Tx, taskId: number, rule: string): Promise<void> {
  const pending = await listRows(tx.db, { taskId, state: 'pending' });
  const runs = new Map<string, RunRow | undefined>();
  for (const p of pending) {
    if (!runs.has(p.run_id)) runs.set(p.run_id, await getRun(tx.db, p.run_id));
    const cwd = runs.get(p.run_id)?.workdir ?? app.workdir;
    const use = { tool: p.tool, input: parseApprovalInput(p.input) };
    if (!ruleMatches(rule, use, cwd)) continue;
    if (
      await decideApproval(tx, p.id, {
        state: 'allowed',
        decidedBy: `rule:${rule}`,
        message: null,
        rule: null,
      })
    )
      await decidedEvent(tx, p, 'allowed', `rule:${rule}`, null);
  }
}

/** Denies a pending request; the agent receives `message`. */
export async function denyApproval(
  app: App,
  id: number,
  o: { message: string; by?: string },
): Promise<ApprovalView> {
  const message = o.message.trim();
  if (!message)
    throw new UsageError('a denial needs a message: tell the agent why, and what to do instead', {
      field: 'message',
    });
  const row = await onPending(app, id, (tx, row) =>
    decide(tx, row, 'denied', { by: o.by ?? DEFAULT_BY, message, rule: null }),
  );
  return viewOf(app, (await getApproval(app.store.db, row.id)) ?? row);
}

export async function getApprovalView(app: App, id: number): Promise<ApprovalView> {
  const row = await getApproval(app.store.db, id);
  if (!row) throw approvalNotFound(id);
  return viewOf(app, row);
}

/** Pending requests oldest first; any other filter newest first. */
export async function listApprovals(
  app: App,
  q: { state?: ApprovalState; taskId?: number; limit?: number },
): Promise<ApprovalView[]> {
  const rows = await listRows(app.store.db, {
    ...q,
    limit: q.limit ?? 100,
    order: q.state === 'pending' ? 'asc' : 'desc',
  });
  return approvalViews(app, rows);
}

/** A task's requests for its page: every pending one, then the latest decided. */
export async function taskApprovals(
  app: App,
  taskId: number,
  decided = 20,
): Promise<ApprovalView[]> {
  const db = app.store.db;
  const [pending, done] = await Promise.all([
    listRows(db, { taskId, state: 'pending', order: 'asc' }),
    listRows(db, { taskId, decided: true, limit: decided }),
  ]);
  return approvalViews(app, [...pending, ...done]);
}

/** Requests per state, board-wide (read at scrape time: right on every server of the board). */
export function approvalCounts(app: App): Promise<Map<ApprovalState, number>> {
  return countApprovalsByState(app.store.db);
}
