import {
  type Kysely,
  type Selectable,
  type SelectQueryBuilder,
  sql,
  type Updateable,
} from 'kysely';
import { AgentboardError } from '../domain/errors.js';
import { formatTaskId } from '../domain/ids.js';
import type { TaskStatus, TaskStep } from '../domain/task.js';
import { hotQuery, setClause } from './hot-sql.js';
import type { DB, TasksTable } from './schema.js';
import type { Tx } from './store.js';

export type TaskRow = Selectable<TasksTable>;

export interface TaskFilter {
  statuses?: TaskStatus[];
  agent?: string;
  label?: string;
  search?: string;
  parentId?: number;
  sort?: 'board' | 'created' | 'updated' | 'priority';
  order?: 'asc' | 'desc';
  limit?: number;
  offset?: number;
}

export async function insertTask(tx: Tx, row: TaskRow): Promise<void> {
  await tx.db.insertInto('tasks').values(row).execute();
}

export async function getTask(db: Kysely<DB>, id: number): Promise<TaskRow | undefined> {
  const [row] = await hotQuery<TaskRow>(db, 'select * from tasks where id = ?', [id]);
  return row && normalizeTask(row);
}

export async function getTasks(db: Kysely<DB>, ids: number[]): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('tasks').selectAll().where('id', 'in', ids).execute();
  return rows.map(normalizeTask);
}

/**
 * A change to a task. Its status is set only as a step of the task machine
 * (domain/task.ts stepTask), never as a bare value: the machine's tests then
 * cover every transition the system makes.
 */
export type TaskRowPatch = Omit<Updateable<TasksTable>, 'status'> & { status?: TaskStep };

export async function updateTask(tx: Tx, id: number, patch: TaskRowPatch): Promise<void> {
  const { status, ...rest } = patch;
  const set = setClause({ ...rest, ...(status ? { status: status.to } : {}), updated_at: tx.now });
  if (!status) {
    await hotQuery(tx.db, `update tasks set ${set.text} where id = ?`, [...set.values, id]);
    return;
  }
  // As a run step (store/runs.ts): a status step applies only to the status
  // it was taken from, so a card another transaction moved is not overwritten.
  const rows = await hotQuery(
    tx.db,
    `update tasks set ${set.text} where id = ? and status = ? returning id`,
    [...set.values, id, status.from],
  );
  if (rows.length === 0) throw new TaskMovedError(id, status.from);
}

/** A task's status changed between reading it and writing a step from it: the caller's view is stale. */
export class TaskMovedError extends AgentboardError {
  constructor(taskId: number, from: string) {
    super(
      'illegal_transition',
      `task ${formatTaskId(taskId)} is no longer ${from.replace('_', ' ')}: someone or something moved it first; look at the board again, then retry`,
      { details: { task: formatTaskId(taskId), from } },
    );
  }
}

/** LIKE pattern matching `text` anywhere, with LIKE's wildcards escaped (used with ESCAPE '\\'). */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Case-insensitive substring match that behaves the same on SQLite and PostgreSQL. */
function contains(column: string, text: string) {
  return sql<boolean>`lower(${sql.ref(column)}) like lower(${containsPattern(text)}) escape '\\'`;
}

/** Columns in board order (backlog first), rather than alphabetically. */
const BOARD_ORDER = sql`case status when 'backlog' then 0 when 'todo' then 1 when 'in_progress' then 2 when 'review' then 3 when 'done' then 4 when 'blocked' then 5 else 6 end`;

type TaskQuery = SelectQueryBuilder<DB, 'tasks', object>;

function applyFilter<Q extends TaskQuery>(q: Q, f: TaskFilter): Q {
  let out = q;
  if (f.statuses && f.statuses.length > 0) out = out.where('status', 'in', f.statuses) as Q;
  if (f.agent) out = out.where('agent', '=', f.agent) as Q;
  if (f.parentId !== undefined) out = out.where('parent_id', '=', f.parentId) as Q;
  if (f.label) out = out.where(contains('labels', JSON.stringify(f.label))) as Q;
  if (f.search) {
    const search = f.search;
    // "T-3" (or "t3") also finds the task itself, as people write ids in chats and commits.
    const id = /^\s*t-?(\d{1,15})\s*$/i.exec(search)?.[1];
    out = out.where((eb) =>
      eb.or([
        contains('title', search),
        contains('body', search),
        ...(id ? [eb('id', '=', Number(id))] : []),
      ]),
    ) as Q;
  }
  return out;
}

export async function listTasks(db: Kysely<DB>, f: TaskFilter): Promise<TaskRow[]> {
  let q = applyFilter(db.selectFrom('tasks').selectAll(), f);
  const dir = f.order ?? 'asc';
  switch (f.sort ?? 'board') {
    case 'board':
      q = q.orderBy(BOARD_ORDER).orderBy('position', dir).orderBy('id', dir);
      break;
    case 'created':
      q = q.orderBy('id', dir);
      break;
    case 'updated':
      q = q.orderBy('updated_at', dir).orderBy('id', dir);
      break;
    case 'priority':
      q = q.orderBy('priority', dir === 'asc' ? 'desc' : 'asc').orderBy('id');
      break;
  }
  // SQLite accepts OFFSET only after a LIMIT.
  if (f.limit !== undefined || f.offset) q = q.limit(f.limit ?? Number.MAX_SAFE_INTEGER);
  if (f.offset) q = q.offset(f.offset);
  const rows = await q.execute();
  return rows.map(normalizeTask);
}

/** Cards per column, for the same filter as a listing (sort and paging ignored). */
export async function countTasksByStatus(
  db: Kysely<DB>,
  f: TaskFilter = {},
): Promise<Record<string, number>> {
  const rows = await applyFilter(db.selectFrom('tasks'), f)
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Positions of a column's cards, in order: the neighbours of a move. */
export async function columnPositions(
  db: Kysely<DB>,
  status: TaskStatus,
): Promise<{ id: number; position: number }[]> {
  const rows = await db
    .selectFrom('tasks')
    .select(['id', 'position'])
    .where('status', '=', status)
    .orderBy('position')
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ id: Number(r.id), position: Number(r.position) }));
}

export async function lastPosition(db: Kysely<DB>, status: TaskStatus): Promise<number> {
  const r = await db
    .selectFrom('tasks')
    .select((eb) => eb.fn.max('position').as('p'))
    .where('status', '=', status)
    .executeTakeFirst();
  return r?.p === null || r?.p === undefined ? 0 : Number(r.p);
}

export async function addDependencies(tx: Tx, taskId: number, dependsOn: number[]): Promise<void> {
  if (dependsOn.length === 0) return;
  await tx.db
    .insertInto('task_dependencies')
    .values(dependsOn.map((d) => ({ task_id: taskId, depends_on_id: d })))
    .execute();
}

export async function dependenciesOf(db: Kysely<DB>, taskId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('task_dependencies')
    .select('depends_on_id')
    .where('task_id', '=', taskId)
    .orderBy('depends_on_id')
    .execute();
  return rows.map((r) => Number(r.depends_on_id));
}

export async function removeDependencies(
  tx: Tx,
  taskId: number,
  dependsOn: number[],
): Promise<void> {
  if (dependsOn.length === 0) return;
  await tx.db
    .deleteFrom('task_dependencies')
    .where('task_id', '=', taskId)
    .where('depends_on_id', 'in', dependsOn)
    .execute();
}

/** The tasks that wait on `taskId` (the other direction of dependenciesOf). */
export async function dependentsOf(db: Kysely<DB>, taskId: number): Promise<number[]> {
  const rows = await db
    .selectFrom('task_dependencies')
    .select('task_id')
    .where('depends_on_id', '=', taskId)
    .orderBy('task_id')
    .execute();
  return rows.map((r) => Number(r.task_id));
}

/** Sets the positions of cards at once (a column renumbered), without touching updated_at. */
export async function setPositions(
  tx: Tx,
  positions: readonly { id: number; position: number }[],
): Promise<void> {
  for (const p of positions) {
    await tx.db.updateTable('tasks').set({ position: p.position }).where('id', '=', p.id).execute();
  }
}

export async function allDependencyEdges(db: Kysely<DB>): Promise<[number, number][]> {
  const rows = await db.selectFrom('task_dependencies').selectAll().execute();
  return rows.map((r) => [Number(r.task_id), Number(r.depends_on_id)]);
}

/** pg returns bigint columns as numbers only after type parsing; make the shape uniform. */
function normalizeTask(r: TaskRow): TaskRow {
  return {
    ...r,
    id: Number(r.id),
    parent_id: r.parent_id === null ? null : Number(r.parent_id),
    position: Number(r.position),
    created_at: Number(r.created_at),
    updated_at: Number(r.updated_at),
    loop_delay_ms: Number(r.loop_delay_ms),
  };
}

/** Agents named by tasks that are not finished. */
export async function agentsOfOpenTasks(db: Kysely<DB>): Promise<string[]> {
  const rows = await db
    .selectFrom('tasks')
    .select('agent')
    .distinct()
    .where('status', 'not in', ['done', 'cancelled'])
    .where('agent', 'is not', null)
    .execute();
  return rows.map((r) => r.agent as string);
}
