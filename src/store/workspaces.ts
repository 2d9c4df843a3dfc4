import type { Kysely, Selectable, Updateable } from 'kysely';
import type { RunState } from '../domain/run.js';
import type { TaskStatus } from '../domain/task.js';
import type { DB, WorkspacesTable } from './schema.js';
import type { Tx } from './store.js';

export type WorkspaceRow = Selectable<WorkspacesTable>;

function normalize(r: WorkspaceRow): WorkspaceRow {
  return {
    ...r,
    task_id: Number(r.task_id),
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
    merged_at: r.merged_at === null ? null : Number(r.merged_at),
    discarded_at: r.discarded_at === null ? null : Number(r.discarded_at),
    removed_at: r.removed_at === null ? null : Number(r.removed_at),
  };
}

export async function getWorkspace(
  db: Kysely<DB>,
  taskId: number,
): Promise<WorkspaceRow | undefined> {
  const r = await db
    .selectFrom('workspaces')
    .selectAll()
    .where('task_id', '=', taskId)
    .executeTakeFirst();
  return r && normalize(r);
}

export async function listWorkspaces(db: Kysely<DB>): Promise<WorkspaceRow[]> {
  const rows = await db.selectFrom('workspaces').selectAll().orderBy('task_id').execute();
  return rows.map(normalize);
}

/**
 * Records a (re)created worktree: the row becomes current again. A `fresh`
 * one (a new branch, after a discard) also forgets the old branch's merge.
 */
export async function saveWorkspace(
  tx: Tx,
  row: Pick<WorkspaceRow, 'task_id' | 'repo' | 'path' | 'branch' | 'base_branch' | 'base_commit'>,
  opts: { fresh?: boolean } = {},
): Promise<void> {
  const current = {
    ...row,
    updated_at: tx.now,
    discarded_at: null,
    removed_at: null,
    ...(opts.fresh ? { merged_at: null, merge_commit: null } : {}),
  };
  await tx.db
    .insertInto('workspaces')
    .values({ merged_at: null, merge_commit: null, ...current, created_at: tx.now })
    .onConflict((oc) => oc.column('task_id').doUpdateSet(current))
    .execute();
}

export async function updateWorkspace(
  tx: Tx,
  taskId: number,
  patch: Updateable<WorkspacesTable>,
): Promise<void> {
  await tx.db
    .updateTable('workspaces')
    .set({ ...patch, updated_at: tx.now })
    .where('task_id', '=', taskId)
    .execute();
}

/**
 * Claims a periodic job: true (and the new time recorded) when it last ran
 * at least `everyMs` ago or never. Two engines cannot both claim one period.
 */
export async function claimMaintenance(tx: Tx, name: string, everyMs: number): Promise<boolean> {
  await tx.db
    .insertInto('maintenance')
    .values({ name, last_run_at: 0, summary: null })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const r = await tx.db
    .updateTable('maintenance')
    .set({ last_run_at: tx.now })
    .where('name', '=', name)
    .where('last_run_at', '<=', tx.now - everyMs)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

export async function recordMaintenance(tx: Tx, name: string, summary: string): Promise<void> {
  await tx.db.updateTable('maintenance').set({ summary }).where('name', '=', name).execute();
}

export async function getMaintenance(
  db: Kysely<DB>,
  name: string,
): Promise<{ lastRunAt: number; summary: string | null } | undefined> {
  const r = await db
    .selectFrom('maintenance')
    .selectAll()
    .where('name', '=', name)
    .executeTakeFirst();
  return r && { lastRunAt: Number(r.last_run_at), summary: r.summary };
}

export interface GcTaskFacts {
  id: number;
  status: TaskStatus;
  updatedAt: number;
}

export interface GcRunFacts {
  id: string;
  taskId: number;
  state: RunState;
  endedAt: number | null;
  createdAt: number;
}

/** What gc needs to know about these tasks and all of their runs. */
export async function gcFacts(
  db: Kysely<DB>,
  taskIds: number[],
): Promise<{ tasks: GcTaskFacts[]; runs: GcRunFacts[] }> {
  const tasks: GcTaskFacts[] = [];
  const runs: GcRunFacts[] = [];
  for (let i = 0; i < taskIds.length; i += 500) {
    const ids = taskIds.slice(i, i + 500);
    const t = await db
      .selectFrom('tasks')
      .select(['id', 'status', 'updated_at'])
      .where('id', 'in', ids)
      .execute();
    tasks.push(
      ...t.map((r) => ({ id: Number(r.id), status: r.status, updatedAt: Number(r.updated_at) })),
    );
    const r = await db
      .selectFrom('runs')
      .select(['id', 'task_id', 'state', 'ended_at', 'created_at'])
      .where('task_id', 'in', ids)
      .execute();
    runs.push(
      ...r.map((x) => ({
        id: x.id,
        taskId: Number(x.task_id),
        state: x.state,
        endedAt: x.ended_at === null ? null : Number(x.ended_at),
        createdAt: Number(x.created_at),
      })),
    );
  }
  return { tasks, runs };
}

/** The tasks these runs belong to. */
export async function tasksOfRuns(db: Kysely<DB>, runIds: string[]): Promise<number[]> {
  const out = new Set<number>();
  for (let i = 0; i < runIds.length; i += 500) {
    const rows = await db
      .selectFrom('runs')
      .select('task_id')
      .where('id', 'in', runIds.slice(i, i + 500))
      .execute();
    for (const r of rows) out.add(Number(r.task_id));
  }
  return [...out];
}
