/**
 * Realistic, reproducible board contents for benchmarks: a seeded generator of
 * task inputs and a bulk loader that fills a board with N tasks quickly.
 */
import type { App } from '../src/app/context.js';
import type { TaskInput } from '../src/app/tasks.js';
import { PRIORITIES, type Priority, type TaskStatus } from '../src/domain/task.js';
import { nextValue } from '../src/store/counters.js';
import type { Tx } from '../src/store/store.js';
import { lastPosition, type TaskRow } from '../src/store/tasks.js';

/** Agents the generated tasks are assigned to; `benchAgents()` configures them. */
export const AGENTS = ['claude', 'codex', 'gemini'] as const;

/** Configured but given no cards: filtering by it is the worst case (nothing matches). */
export const IDLE_AGENT = 'amp';

/** Config for the agents above (plus the idle one), for `benchConfig({ agents: benchAgents() })`. */
export function benchAgents(): Record<string, { kind: string }> {
  return Object.fromEntries([...AGENTS, IDLE_AGENT].map((a) => [a, { kind: a }]));
}

/**
 * Labels with their probability of appearing on a task: a few common ones and
 * a long tail. `perf` (~4%) is the benchmark's "filter by label".
 */
export const LABELS: readonly [string, number][] = [
  ['backend', 0.3],
  ['frontend', 0.25],
  ['bug', 0.2],
  ['feature', 0.2],
  ['chore', 0.1],
  ['docs', 0.08],
  ['tests', 0.08],
  ['security', 0.03],
  ['perf', 0.04],
  ['ux', 0.05],
  ['infra', 0.05],
  ['db', 0.04],
  ['api', 0.06],
  ['cli', 0.04],
  ['flaky', 0.02],
];

/** Column shares on a board that has lived a while: most cards are done. */
export const STATUS_SHARES: readonly [TaskStatus, number][] = [
  ['backlog', 0.25],
  ['todo', 0.12],
  ['in_progress', 0.02],
  ['review', 0.05],
  ['done', 0.48],
  ['blocked', 0.03],
  ['cancelled', 0.05],
];

const PRIORITY_SHARES: readonly [Priority, number][] = [
  ['low', 0.25],
  ['medium', 0.5],
  ['high', 0.2],
  ['urgent', 0.05],
];

const WORDS = (
  'add fix refactor remove update migrate handle retry parse render validate cache index ' +
  'query stream upload download login session token config schema endpoint handler worker ' +
  'queue lease timeout backoff retry dashboard column card board filter search label agent ' +
  'run log output error warning metric trace span build test lint format deploy release ' +
  'docker image container volume network proxy socket client server request response header ' +
  'body json yaml csv export import report chart table modal button form input select ' +
  'pagination sorting ordering permission role user team project workspace branch commit ' +
  'merge rebase conflict review comment approve reject flaky slow memory leak crash panic'
).split(' ');

/** A small, fast, seeded PRNG (mulberry32): the same seed gives the same board. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, shares: readonly [T, number][]): T {
  const total = shares.reduce((a, [, w]) => a + w, 0);
  let x = rand() * total;
  for (const [v, w] of shares) {
    x -= w;
    if (x < 0) return v;
  }
  const last = shares.at(-1);
  if (!last) throw new Error('no shares');
  return last[0];
}

function words(rand: () => number, n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)] ?? 'task');
  return out.join(' ');
}

/** A body of a few hundred bytes: a sentence or two and a checklist. */
function body(rand: () => number): string {
  const target = 200 + Math.floor(rand() * 400);
  let s = `${words(rand, 12)}.\n\n`;
  while (s.length < target) s += `- [ ] ${words(rand, 3 + Math.floor(rand() * 6))}\n`;
  return s;
}

export interface GeneratedTask {
  title: string;
  body: string;
  status: TaskStatus;
  priority: Priority;
  agent: string | null;
  labels: string[];
}

export function generateTask(rand: () => number, n: number): GeneratedTask {
  const labels = LABELS.filter(([, p]) => rand() < p).map(([l]) => l);
  const agentRoll = rand();
  return {
    title: `${words(rand, 3 + Math.floor(rand() * 5))} #${n}`,
    body: body(rand),
    status: pick(rand, STATUS_SHARES),
    priority: pick(rand, PRIORITY_SHARES),
    // ~85% assigned, spread unevenly over the agents.
    agent:
      agentRoll < 0.45 ? 'claude' : agentRoll < 0.7 ? 'codex' : agentRoll < 0.85 ? 'gemini' : null,
    labels,
  };
}

/** An `addTask` input: statuses a new task may start in (not in_progress or cancelled). */
export function generateTaskInput(rand: () => number, n: number): TaskInput {
  const t = generateTask(rand, n);
  const status = t.status === 'in_progress' || t.status === 'cancelled' ? 'todo' : t.status;
  return {
    title: t.title,
    body: t.body,
    status,
    priority: t.priority,
    agent: t.agent,
    labels: t.labels,
  };
}

/**
 * Allocates `n` consecutive values of a counter in the caller's transaction:
 * the same counter `nextValue` bumps, so ids stay unique for later `addTask`s.
 */
async function allocate(tx: Tx, name: string, n: number): Promise<number> {
  const first = await nextValue(tx, name);
  if (n > 1) {
    // The row lock taken by nextValue is held to commit: nobody else moves it meanwhile.
    await tx.db
      .updateTable('counters')
      .set({ value: first + n - 1 })
      .where('name', '=', name)
      .execute();
  }
  return first;
}

export interface SeedOptions {
  count: number;
  /** Rows per transaction (and per multi-row INSERT). */
  batch?: number;
  seed?: number;
  /** Spread of created_at into the past, so "recently updated" means something. */
  spanMs?: number;
}

/**
 * Fills the board with `count` tasks, `batch` per transaction: each batch
 * takes ids from the `task` counter, inserts the tasks and one `task.created`
 * event per task (ids from the `event` counter), as addTask would, but in
 * multi-row INSERTs. About 5% of tasks are subtasks of an earlier task.
 */
export async function seedBoard(app: App, opts: SeedOptions): Promise<void> {
  const rand = prng(opts.seed ?? 42);
  const batch = opts.batch ?? 1000;
  const span = opts.spanMs ?? 90 * 24 * 3600 * 1000;
  const positions = new Map<string, number>();
  const now = app.clock.now();
  const start = now - span;
  let done = 0;
  while (done < opts.count) {
    const n = Math.min(batch, opts.count - done);
    await app.store.tx(async (tx) => {
      const firstId = await allocate(tx, 'task', n);
      const firstEvent = await allocate(tx, 'event', n);
      const tasks: TaskRow[] = [];
      for (let i = 0; i < n; i++) {
        const id = firstId + i;
        const g = generateTask(rand, id);
        let pos = positions.get(g.status);
        if (pos === undefined) pos = await lastPosition(tx.db, g.status);
        pos += 1024;
        positions.set(g.status, pos);
        const created = Math.floor(start + (span * (done + i)) / opts.count);
        const parent =
          id > 100 && rand() < 0.05 ? Math.max(1, id - 1 - Math.floor(rand() * 50)) : null;
        tasks.push({
          id,
          title: g.title,
          body: g.body,
          status: g.status,
          priority: PRIORITIES.indexOf(g.priority),
          position: pos,
          agent: g.agent,
          labels: JSON.stringify(g.labels),
          parent_id: parent !== null && parent < firstId ? parent : null,
          verify_command: rand() < 0.2 ? 'npm test' : null,
          loop_enabled: 0,
          loop_max_iterations: 10,
          loop_delay_ms: 0,
          loop_done_file: 'DONE',
          max_attempts: null,
          max_cost_usd: null,
          status_reason: g.status === 'blocked' ? 'retries exhausted: exit 1' : null,
          escalated_from_run_id: null,
          created_at: created,
          // Finished cards were touched after they were made.
          updated_at: Math.min(now, created + Math.floor(rand() * 3 * 24 * 3600 * 1000)),
        });
      }
      await tx.db.insertInto('tasks').values(tasks).execute();
      await tx.db
        .insertInto('events')
        .values(
          tasks.map((t, i) => ({
            id: firstEvent + i,
            type: 'task.created',
            task_id: t.id,
            run_id: null,
            data: JSON.stringify({ title: t.title, status: t.status }),
            created_at: t.created_at,
          })),
        )
        .execute();
    });
    done += n;
  }
}
