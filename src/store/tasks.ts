import { type Kysely, type Selectable, sql, type Updateable } from 'kysely';
import type { DB, TasksTable } from './schema.js';
import type { Tx } from './store.js';

export type TaskRow = Selectable<TasksTable>;

export interface TaskFilter {
  statuses?: string[];
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
  const row = await db.selectFrom('tasks').selectAll().where('id', '=', id).executeTakeFirst();
  return row && normalizeTask(row);
}

export async function getTasks(db: Kysely<DB>, ids: number[]): Promise<TaskRow[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom('tasks').selectAll().where('id', 'in', ids).execute();
  return rows.map(normalizeTask);
}

export async function updateTask(tx: Tx, id: number, patch: Updateable<TasksTable>): Promise<void> {
  await tx.db
    .updateTable('tasks')
    .set({ ...patch, updated_at: tx.now })
    .where('id', '=', id)
    .execute();
}

export async function listTasks(db: Kysely<DB>, f: TaskFilter): Promise<TaskRow[]> {
  let q = db.selectFrom('tasks').selectAll();
  if (f.statuses && f.statuses.length > 0) q = q.where('status', 'in', f.statuses);
  if (f.agent) q = q.where('agent', '=', f.agent);
  if (f.parentId !== undefined) q = q.where('parent_id', '=', f.parentId);
  if (f.label) {
    // An exact element of the JSON array: `"label"`, case-sensitive, no wildcards.
    const needle = JSON.stringify(f.label);
    q = q.where(sql<boolean>`replace(labels, ${needle}, '') <> labels`);
  }
  if (f.search) {
    // Case-insensitive on both dialects; % and _ are literal (SQLite has no default escape).
    const pattern = `%${f.search.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    q = q.where((eb) =>
      eb.or([
        sql<boolean>`lower(${eb.ref('title')}) like ${pattern} escape '\\'`,
        sql<boolean>`lower(${eb.ref('body')}) like ${pattern} escape '\\'`,
      ]),
    );
  }
  const dir = f.order ?? 'asc';
  switch (f.sort ?? 'board') {
    case 'board':
      q = q.orderBy('status').orderBy('position', dir).orderBy('id');
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

export async function countTasksByStatus(db: Kysely<DB>): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('tasks')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}

/** Positions of a column's cards, in order: the neighbours of a move. */
export async function columnPositions(
  db: Kysely<DB>,
  status: string,
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

export async function lastPosition(db: Kysely<DB>, status: string): Promise<number> {
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
