import { type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import { AgentboardError } from '../domain/errors.js';
import { ACTIVE_RUN_STATES, type RunState, type RunStep, stepRun } from '../domain/run.js';
import { nextValue } from './counters.js';
import { LOCK_KEYS } from './dialect.js';
import { hotQuery, setClause } from './hot-sql.js';
import type { DB, RunsTable } from './schema.js';
import { leaseDeadlineSql, leaseNow, type Tx } from './store.js';

export type RunRow = Selectable<RunsTable>;

/**
 * A change to a run. Its state is set only as a step of the run machine
 * (domain/run.ts stepRun), never as a bare value: the machine's tests then
 * cover every transition the system makes.
 */
export type RunPatch = Omit<Updateable<RunsTable>, 'state'> & { state?: RunStep };

function runSet(patch: RunPatch): { text: string; values: unknown[] } {
  const { state, ...rest } = patch;
  return setClause(state ? { ...rest, state: state.to } : rest);
}

const BIGINT_COLUMNS = [
  'run_at',
  'lease_token',
  'lease_expires_at',
  'proc_start_time',
  'tokens_in',
  'tokens_out',
  'tokens_cache_read',
  'tokens_cache_write',
  'cpu_ms',
  'peak_rss_bytes',
  'stalled_at',
  'stop_requested_at',
  'last_output_at',
  'output_bytes',
  'parsed_offset',
  'created_at',
  'claimed_at',
  'started_at',
  'ended_at',
  'task_id',
] as const;

function normalizeRun(r: RunRow): RunRow {
  const out = { ...r } as Record<string, unknown>;
  for (const c of BIGINT_COLUMNS) if (out[c] !== null) out[c] = Number(out[c]);
  out.cost_usd = Number(r.cost_usd);
  if (out.max_cost_usd !== null) out.max_cost_usd = Number(out.max_cost_usd);
  return out as unknown as RunRow;
}

export async function insertRun(tx: Tx, row: RunRow): Promise<void> {
  await tx.db.insertInto('runs').values(row).execute();
}

export async function getRun(db: Kysely<DB>, id: string): Promise<RunRow | undefined> {
  const [r] = await hotQuery<RunRow>(db, 'select * from runs where id = ?', [id]);
  return r && normalizeRun(r);
}

/** The agent's session id from the task's latest run by that agent, for resuming it. */
export async function latestSessionOf(
  db: Kysely<DB>,
  taskId: number,
  agent: string,
): Promise<string | null> {
  const r = await db
    .selectFrom('runs')
    .select('session_id')
    .where('task_id', '=', taskId)
    .where('agent', '=', agent)
    .where('session_id', 'is not', null)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r?.session_id ?? null;
}

/**
 * The session's running totals at the end of the latest earlier run in it:
 * what a resumed run subtracts from the cumulative figures its CLI reports.
 */
export async function sessionTotalsBefore(
  db: Kysely<DB>,
  run: { id: string; task_id: number; resume_session_id: string | null },
): Promise<string | null> {
  if (!run.resume_session_id) return null;
  const r = await db
    .selectFrom('runs')
    .select('session_totals')
    .where('task_id', '=', run.task_id)
    .where('session_id', '=', run.resume_session_id)
    .where('session_totals', 'is not', null)
    .where('id', '<', run.id)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r?.session_totals ?? null;
}

/** Run ids are long; users may type a unique prefix. */
export async function findRunsByPrefix(db: Kysely<DB>, prefix: string): Promise<RunRow[]> {
  const rows = await db
    .selectFrom('runs')
    .selectAll()
    .where('id', '>=', prefix)
    .where('id', '<', `${prefix}~`)
    .limit(2)
    .execute();
  return rows.map(normalizeRun);
}

export async function activeRunOfTask(db: Kysely<DB>, taskId: number): Promise<RunRow | undefined> {
  const r = await db
    .selectFrom('runs')
    .selectAll()
    .where('task_id', '=', taskId)
    .where('state', 'in', ACTIVE_RUN_STATES)
    .executeTakeFirst();
  return r && normalizeRun(r);
}

export async function latestRunOfTask(db: Kysely<DB>, taskId: number): Promise<RunRow | undefined> {
  const r = await db
    .selectFrom('runs')
    .selectAll()
    .where('task_id', '=', taskId)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return r && normalizeRun(r);
}

export interface RunFilter {
  ids?: string[];
  taskId?: number;
  states?: RunState[];
  agent?: string;
  workerId?: string;
  limit?: number;
  order?: 'asc' | 'desc';
}

export async function listRuns(db: Kysely<DB>, f: RunFilter): Promise<RunRow[]> {
  let q = db.selectFrom('runs').selectAll();
  if (f.ids) {
    if (f.ids.length === 0) return [];
    q = q.where('id', 'in', f.ids);
  }
  if (f.taskId !== undefined) q = q.where('task_id', '=', f.taskId);
  if (f.states && f.states.length > 0) q = q.where('state', 'in', f.states);
  if (f.agent) q = q.where('agent', '=', f.agent);
  if (f.workerId) q = q.where('worker_id', '=', f.workerId);
  q = q.orderBy('id', f.order ?? 'desc');
  if (f.limit !== undefined) q = q.limit(f.limit);
  return (await q.execute()).map(normalizeRun);
}

export async function updateRun(tx: Tx, id: string, patch: RunPatch): Promise<void> {
  const set = runSet(patch);
  if (set.values.length === 0) return;
  if (!patch.state) {
    await hotQuery(tx.db, `update runs set ${set.text} where id = ?`, [...set.values, id]);
    return;
  }
  // A step applies only to the state it was taken from: a run that moved
  // meanwhile (another transaction on PostgreSQL) is not overwritten.
  const rows = await hotQuery(
    tx.db,
    `update runs set ${set.text} where id = ? and state = ? returning id`,
    [...set.values, id, patch.state.from],
  );
  if (rows.length === 0) throw new RunMovedError(id, patch.state.from);
}

/** A run's state changed between reading it and writing a step from it: the caller's view is stale. */
export class RunMovedError extends AgentboardError {
  constructor(runId: string, from: string) {
    super(
      'illegal_transition',
      `run ${runId} is no longer ${from}: another worker or request changed it first; look at the run again, then retry`,
      { details: { runId, from } },
    );
  }
}

/**
 * A write by the worker holding the lease. Returns false when the fencing
 * token no longer matches: the lease was taken over and the caller must stop.
 */
export async function updateRunFenced(
  tx: Tx,
  id: string,
  leaseToken: number,
  patch: RunPatch,
): Promise<boolean> {
  const set = runSet(patch);
  // With a step, the run must still be in the state it steps from; without, in any active one.
  const states: readonly string[] = patch.state ? [patch.state.from] : ACTIVE_RUN_STATES;
  const marks = states.map(() => '?').join(', ');
  // `returning id` says whether the fence held, the same way on both dialects.
  const rows = await hotQuery(
    tx.db,
    `update runs set ${set.text || 'id = id'} where id = ? and lease_token = ? and state in (${marks}) returning id`,
    [...set.values, id, leaseToken, ...states],
  );
  return rows.length > 0;
}

/**
 * Hands a claimed run back to the queue, only while it is still claimed
 * under `leaseToken` (one statement: a concurrent start cannot slip in).
 * Returns whether it did.
 */
export async function releaseClaimedRun(
  tx: Tx,
  id: string,
  leaseToken: number,
  step: RunStep,
): Promise<boolean> {
  const rows = await hotQuery(
    tx.db,
    `update runs set state = ?, worker_id = null, lease_token = null,
       lease_expires_at = null, host = null, boot_id = null, claimed_at = null
     where id = ? and lease_token = ? and state = ? returning id`,
    [step.to, id, leaseToken, step.from],
  );
  return rows.length > 0;
}

/** Claimed or running runs per agent: what counts against concurrency limits. */
export async function busyByAgent(db: Kysely<DB>): Promise<Map<string, number>> {
  const rows = await hotQuery<{ agent: string; n: number }>(
    db,
    "select agent, count(*) as n from runs where state in ('claimed', 'running') group by agent",
    [],
  );
  return new Map(rows.map((r) => [r.agent, Number(r.n)]));
}

export interface ClaimRequest {
  workerId: string;
  host: string;
  bootId: string;
  leaseMs: number;
  /** Agents this worker can run, with their concurrency limits. */
  agentLimits: Record<string, number>;
  globalLimit: number;
}

/**
 * Claims the next runnable run: queued, due, its agent under its limit, the
 * global limit not reached, and every dependency of its task done. Highest
 * priority first, then oldest. Returns the claimed row with its new fencing
 * token, or undefined when nothing can run now.
 */
export async function claimNext(tx: Tx, req: ClaimRequest): Promise<RunRow | undefined> {
  return (await claimRuns(tx, req, 1))[0];
}

/**
 * Claims up to `max` runnable runs in this transaction, in claimNext's
 * order and under the same limits: one query finds the candidates for all
 * of them, which is what makes a burst of free slots cheap to fill.
 */
export async function claimRuns(tx: Tx, req: ClaimRequest, max: number): Promise<RunRow[]> {
  // Limits across workers. SKIP LOCKED alone picks distinct *rows*, but a
  // limit is a *count*: two workers claiming at once each count the same
  // busy runs under READ COMMITTED and together overshoot. So claims take
  // one transaction-scoped advisory lock first: they run one at a time
  // (a claim is a few short statements, ~1 ms), and each counts after the
  // previous one committed. Only a claim raises a count (ends and cancels
  // lower it, takeovers keep it), so limits hold at every instant. Rejected
  // alternative: per-agent "slot" rows locked with SKIP LOCKED scale better
  // per agent, but the global limit spans agents and would still need one
  // shared lock, and slots must be kept in step with every run end.
  // SKIP LOCKED below still matters: the row picked may be locked by
  // another writer (a cancel, an edit), and the claim moves on rather than
  // waits while holding the lock. (SQLite's BEGIN IMMEDIATE already
  // serialises writers.) Released at commit.
  await tx.dialect.transactionLock(tx.db, LOCK_KEYS.claim);
  const busy = await busyByAgent(tx.db);
  let total = 0;
  for (const n of busy.values()) total += n;
  const claimed: RunRow[] = [];
  const hasRoom = (agent: string) => (busy.get(agent) ?? 0) < (req.agentLimits[agent] ?? 0);
  let want = Math.min(max, req.globalLimit - total);
  while (want > 0) {
    const agents = Object.keys(req.agentLimits).filter(hasRoom);
    if (agents.length === 0) break;
    const candidates = await runnable(tx, agents, want);
    let full = false;
    for (const row of candidates) {
      if (!hasRoom(row.agent)) {
        full = true; // this agent filled up within the batch: look again without it
        continue;
      }
      claimed.push(await claimRow(tx, req, row));
      busy.set(row.agent, (busy.get(row.agent) ?? 0) + 1);
      want--;
      if (want === 0) break;
    }
    if (!full || candidates.length === 0) break;
  }
  return claimed;
}

/** Up to `limit` queued, due runs of these agents whose dependencies are done, in claim order. */
async function runnable(
  tx: Tx,
  agents: string[],
  limit: number,
): Promise<{ id: string; agent: string; state: RunState }[]> {
  // Ids only (and the state the claim steps from): the claim's update returns the whole row.
  const text = `select r.id, r.agent, r.state from runs r
    where r.state = 'queued' and r.run_at <= ? and r.agent in (${agents.map(() => '?').join(', ')})
      and not exists (
        select 1 from task_dependencies d join tasks t on t.id = d.depends_on_id
        where d.task_id = r.task_id and t.status != 'done')
    order by r.priority desc, r.run_at, r.id
    limit ?${tx.dialect.skipLocked}`;
  return hotQuery(tx.db, text, [tx.now, ...agents, limit]);
}

async function claimRow(
  tx: Tx,
  req: ClaimRequest,
  row: { id: string; state: RunState },
): Promise<RunRow> {
  // Checked in code, from the state the candidate query read (the row is
  // locked or the write lock held since): no extra statement on the hot path.
  const { to } = stepRun(row.state, { type: 'claim' });
  if (tx.dialect.writableCte) {
    // One statement for the token, the lease deadline and the claim: every
    // round trip here is spent holding the claim lock.
    const r = await sql<RunRow>`
      with token as (
        insert into counters (name, value) values ('lease', 1)
        on conflict (name) do update set value = counters.value + 1
        returning value)
      update runs set
        state = ${to}, worker_id = ${req.workerId}, host = ${req.host},
        boot_id = ${req.bootId}, lease_token = (select value from token),
        lease_expires_at = ${leaseDeadlineSql(tx, req.leaseMs)}, claimed_at = ${tx.now}
      where id = ${row.id}
      returning *`.execute(tx.db);
    const claimed = r.rows[0];
    if (!claimed) throw new Error(`run ${row.id} vanished while locked by its claim`);
    return normalizeRun(claimed);
  }
  const token = await nextValue(tx, 'lease');
  const [claimed] = await hotQuery<RunRow>(
    tx.db,
    `update runs set state = ?, worker_id = ?, host = ?, boot_id = ?, lease_token = ?,
       lease_expires_at = ?, claimed_at = ?
     where id = ? returning *`,
    [
      to,
      req.workerId,
      req.host,
      req.bootId,
      token,
      (await leaseNow(tx)) + req.leaseMs,
      tx.now,
      row.id,
    ],
  );
  if (!claimed) throw new Error(`run ${row.id} vanished during its claim`);
  return normalizeRun(claimed);
}

/** Earliest run_at among queued runs in the future: when the dispatcher should wake. */
export async function nextDueAt(db: Kysely<DB>, now: number): Promise<number | undefined> {
  const r = await db
    .selectFrom('runs')
    .select((eb) => eb.fn.min('run_at').as('t'))
    .where('state', '=', 'queued')
    .where('run_at', '>', now)
    .executeTakeFirst();
  return r?.t === null || r?.t === undefined ? undefined : Number(r.t);
}

export async function renewLeases(
  tx: Tx,
  held: { id: string; token: number }[],
  leaseMs: number,
): Promise<Set<string>> {
  const kept = new Set<string>();
  if (held.length === 0) return kept;
  const expires = (await leaseNow(tx)) + leaseMs;
  for (const h of held) {
    const ok = await updateRunFenced(tx, h.id, h.token, { lease_expires_at: expires });
    if (ok) kept.add(h.id);
  }
  return kept;
}

/** Queued runs due before `before` that no queue monitor has flagged yet. */
export async function staleQueuedRuns(db: Kysely<DB>, before: number): Promise<RunRow[]> {
  const rows = await db
    .selectFrom('runs')
    .selectAll()
    .where('state', '=', 'queued')
    .where('stalled_at', 'is', null)
    .where('run_at', '<', before)
    .orderBy('run_at')
    .limit(100)
    .execute();
  return rows.map(normalizeRun);
}

export interface AgentUsage {
  runs: number;
  tokensIn: number;
  tokensOut: number;
  costUsd: number;
}

/** Usage and cost summed over every run, per agent. */
export async function usageByAgent(db: Kysely<DB>): Promise<Map<string, AgentUsage>> {
  const rows = await db
    .selectFrom('runs')
    .select((eb) => [
      'agent',
      eb.fn.countAll<number>().as('runs'),
      eb.fn.sum<number>('tokens_in').as('tokens_in'),
      eb.fn.sum<number>('tokens_out').as('tokens_out'),
      eb.fn.sum<number>('cost_usd').as('cost_usd'),
    ])
    .groupBy('agent')
    .execute();
  return new Map(
    rows.map((r) => [
      r.agent,
      {
        runs: Number(r.runs),
        tokensIn: Number(r.tokens_in ?? 0),
        tokensOut: Number(r.tokens_out ?? 0),
        costUsd: Number(r.cost_usd ?? 0),
      },
    ]),
  );
}
