/**
 * The SQL of approvals (migration 008): requests a person decides, and a
 * task's "always allow" rules. Ids come from counters, as messages' do.
 */
import type { Kysely, Selectable } from 'kysely';
import type { ApprovalState } from '../contract/vocabulary.js';
import { nextValue } from './counters.js';
import type { ApprovalRulesTable, ApprovalsTable, DB } from './schema.js';
import type { Tx } from './store.js';

export type ApprovalRow = Selectable<ApprovalsTable>;
export type ApprovalRuleRow = Selectable<ApprovalRulesTable>;

const NUMBERS = ['id', 'task_id', 'asked_at', 'decided_at'] as const;

function normalize(r: ApprovalRow): ApprovalRow {
  const out = { ...r } as Record<string, unknown>;
  for (const c of NUMBERS) if (out[c] !== null) out[c] = Number(out[c]);
  return out as unknown as ApprovalRow;
}

function normalizeRule(r: ApprovalRuleRow): ApprovalRuleRow {
  return { ...r, id: Number(r.id), task_id: Number(r.task_id), created_at: Number(r.created_at) };
}

export type NewApproval = Omit<ApprovalRow, 'id'>;

/**
 * Inserts a request, or returns the one already there for the same run and
 * tool use (`created` false): an agent asking again gets the same row.
 */
export async function insertApproval(
  tx: Tx,
  a: NewApproval,
): Promise<{ row: ApprovalRow; created: boolean }> {
  const db = tx.db;
  if (a.tool_use_id !== null) {
    const existing = await approvalOfToolUse(tx.db, a.run_id, a.tool_use_id);
    if (existing) return { row: existing, created: false };
  }
  const row: ApprovalRow = { id: await nextValue(tx, 'approval'), ...a };
  const inserted = await db
    .insertInto('approvals')
    .values(row)
    .onConflict((oc) => oc.columns(['run_id', 'tool_use_id']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { row, created: true };
  // Another server inserted it between the read and the insert (PostgreSQL).
  const existing = await approvalOfToolUse(tx.db, a.run_id, a.tool_use_id ?? '');
  if (!existing) throw new Error(`approval for ${a.run_id}/${a.tool_use_id} vanished`);
  return { row: existing, created: false };
}

async function approvalOfToolUse(
  db: Kysely<DB>,
  runId: string,
  toolUseId: string,
): Promise<ApprovalRow | undefined> {
  const r = await db
    .selectFrom('approvals')
    .selectAll()
    .where('run_id', '=', runId)
    .where('tool_use_id', '=', toolUseId)
    .executeTakeFirst();
  return r && normalize(r);
}

/**
 * Holds the run's row until commit (PostgreSQL; SQLite's writers take turns
 * already): a run that ends meanwhile waits for this request's insert, and its
 * end then cancels it, instead of missing a request it could not see yet.
 */
export async function lockRunRow(tx: Tx, runId: string): Promise<void> {
  await tx.dialect
    .lockForUpdate(tx.db.selectFrom('runs').select('id').where('id', '=', runId))
    .execute();
}

export async function getApproval(db: Kysely<DB>, id: number): Promise<ApprovalRow | undefined> {
  const r = await db.selectFrom('approvals').selectAll().where('id', '=', id).executeTakeFirst();
  return r && normalize(r);
}

export interface Decision {
  state: Exclude<ApprovalState, 'pending'>;
  decidedBy: string;
  message: string | null;
  rule: string | null;
}

/** Decides a pending request; false when it was no longer pending (someone decided first). */
export async function decideApproval(tx: Tx, id: number, d: Decision): Promise<boolean> {
  const r = await tx.db
    .updateTable('approvals')
    .set({
      state: d.state,
      decided_at: tx.now,
      decided_by: d.decidedBy,
      message: d.message,
      rule: d.rule,
    })
    .where('id', '=', id)
    .where('state', '=', 'pending')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export interface ApprovalFilter {
  state?: ApprovalState;
  /** Any state but pending. */
  decided?: boolean;
  taskId?: number;
  runIds?: string[];
  /** Pending requests asked at or before this instant. */
  askedBefore?: number;
  limit?: number;
  /** Oldest first (pending queues); newest first otherwise. */
  order?: 'asc' | 'desc';
}

export async function listApprovals(db: Kysely<DB>, f: ApprovalFilter): Promise<ApprovalRow[]> {
  if (f.runIds?.length === 0) return [];
  let q = db.selectFrom('approvals').selectAll();
  if (f.state !== undefined) q = q.where('state', '=', f.state);
  if (f.decided) q = q.where('state', '<>', 'pending');
  if (f.taskId !== undefined) q = q.where('task_id', '=', f.taskId);
  if (f.runIds !== undefined) q = q.where('run_id', 'in', f.runIds);
  if (f.askedBefore !== undefined) q = q.where('asked_at', '<=', f.askedBefore);
  const dir = f.order ?? 'desc';
  q = q.orderBy('asked_at', dir).orderBy('id', dir);
  if (f.limit !== undefined) q = q.limit(f.limit);
  return (await q.execute()).map(normalize);
}

/** Pending requests per task, and when the oldest was asked: the cards' badges. */
export async function pendingByTask(
  db: Kysely<DB>,
  taskIds: number[],
): Promise<Map<number, { pending: number; since: number }>> {
  const out = new Map<number, { pending: number; since: number }>();
  if (taskIds.length === 0) return out;
  const rows = await db
    .selectFrom('approvals')
    .select((eb) => [
      'task_id',
      eb.fn.countAll<number>().as('n'),
      eb.fn.min('asked_at').as('since'),
    ])
    .where('state', '=', 'pending')
    .where('task_id', 'in', taskIds)
    .groupBy('task_id')
    .execute();
  for (const r of rows)
    out.set(Number(r.task_id), { pending: Number(r.n), since: Number(r.since) });
  return out;
}

/**
 * Per run: pending requests, and the latest moment one was asked or decided.
 * The idle monitor counts a run waiting on a person, or just answered, as busy.
 */
export async function approvalActivity(
  db: Kysely<DB>,
  runIds: string[],
): Promise<Map<string, { pending: number; lastAt: number }>> {
  const out = new Map<string, { pending: number; lastAt: number }>();
  if (runIds.length === 0) return out;
  const rows = await db
    .selectFrom('approvals')
    .select(['run_id', 'state', 'asked_at', 'decided_at'])
    .where('run_id', 'in', runIds)
    .execute();
  for (const r of rows) {
    const o = out.get(r.run_id) ?? { pending: 0, lastAt: 0 };
    if (r.state === 'pending') o.pending++;
    o.lastAt = Math.max(o.lastAt, Number(r.decided_at ?? r.asked_at));
    out.set(r.run_id, o);
  }
  return out;
}

/** Requests by state, board-wide: the metrics. */
export async function countApprovalsByState(db: Kysely<DB>): Promise<Map<ApprovalState, number>> {
  const rows = await db
    .selectFrom('approvals')
    .select((eb) => ['state', eb.fn.countAll<number>().as('n')])
    .groupBy('state')
    .execute();
  return new Map(rows.map((r) => [r.state, Number(r.n)]));
}

export async function rulesOfTask(db: Kysely<DB>, taskId: number): Promise<ApprovalRuleRow[]> {
  const rows = await db
    .selectFrom('approval_rules')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('id')
    .execute();
  return rows.map(normalizeRule);
}

/** Adds a rule to a task; the one already there when the task has it. */
export async function insertRule(
  tx: Tx,
  r: Omit<ApprovalRuleRow, 'id' | 'created_at'>,
): Promise<ApprovalRuleRow> {
  const existing = (await rulesOfTask(tx.db, r.task_id)).find((x) => x.rule === r.rule);
  if (existing) return existing;
  const row: ApprovalRuleRow = {
    id: await nextValue(tx, 'approval_rule'),
    created_at: tx.now,
    ...r,
  };
  await tx.db.insertInto('approval_rules').values(row).execute();
  return row;
}

export async function getRule(db: Kysely<DB>, id: number): Promise<ApprovalRuleRow | undefined> {
  const r = await db
    .selectFrom('approval_rules')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  return r && normalizeRule(r);
}

export async function deleteRule(tx: Tx, id: number): Promise<boolean> {
  const r = await tx.db.deleteFrom('approval_rules').where('id', '=', id).executeTakeFirst();
  return Number(r.numDeletedRows) === 1;
}
