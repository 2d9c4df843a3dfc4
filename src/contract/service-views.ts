/** What the API answers for agents, stats, schedules, workspaces, gc and the service routes. */
import { z } from 'zod';
import {
  CATCH_UP_POLICIES,
  OVERLAP_POLICIES,
  TERMINAL_RUN_STATES,
  VERSION_STATUSES,
} from './vocabulary.js';

const iso = z.string();

export const agentView = z.object({
  name: z.string(),
  kind: z.string(),
  command: z.string(),
  path: z.string().nullable(),
  version: z.string().nullable(),
  /** false when the version is outside the tested range; null when unknown. */
  versionOk: z.boolean().nullable(),
  versionStatus: z.enum(VERSION_STATUSES),
  minVersion: z.string().nullable(),
  maxVersion: z.string().nullable(),
  credentials: z.object({ ok: z.boolean(), source: z.string() }),
  problems: z.array(z.string()),
  warnings: z.array(z.string()),
  /** Whether a run of this agent can start at all. */
  canRun: z.boolean(),
  /** Referenced by the defaults or by a task that is not finished. */
  inUse: z.boolean(),
  running: z.number(),
  maxConcurrency: z.number(),
  usage: z.object({
    runs: z.number(),
    tokensIn: z.number(),
    tokensOut: z.number(),
    costUsd: z.number(),
  }),
});
export type AgentView = z.infer<typeof agentView>;
export const agentList = z.object({ items: z.array(agentView) });

const outcomes = Object.fromEntries(TERMINAL_RUN_STATES.map((s) => [s, z.number()])) as Record<
  (typeof TERMINAL_RUN_STATES)[number],
  z.ZodNumber
>;
const success = z.object({ ...outcomes, ended: z.number(), rate: z.number().nullable() });

export const statsView = z.object({
  /** Start of the window: UTC midnight `days - 1` days before today. */
  since: iso,
  days: z.number(),
  agent: z.string().nullable(),
  queue: z.object({ queued: z.number(), runnable: z.number() }),
  success: z.object({
    overall: success,
    byAgent: z.array(success.extend({ agent: z.string() })),
  }),
  durations: z.array(
    z.object({
      agent: z.string(),
      runs: z.number(),
      p50Ms: z.number(),
      p90Ms: z.number(),
      p99Ms: z.number(),
    }),
  ),
  daily: z.array(z.object({ day: z.string(), ...outcomes })),
  cost: z.array(
    z.object({
      day: z.string(),
      agent: z.string(),
      runs: z.number(),
      costUsd: z.number(),
      tokensIn: z.number(),
      tokensOut: z.number(),
    }),
  ),
});
export type StatsView = z.infer<typeof statsView>;

export const scheduleView = z.object({
  id: z.string(),
  cron: z.string(),
  timezone: z.string().nullable(),
  agent: z.string().nullable(),
  prompt: z.string(),
  task: z.string().nullable(),
  title: z.string().nullable(),
  catchUp: z.enum(CATCH_UP_POLICIES),
  catchUpWindowMs: z.number(),
  overlap: z.enum(OVERLAP_POLICIES),
  enabled: z.boolean(),
  heartbeat: z.boolean(),
  lastTickAt: iso.nullable(),
  nextTickAt: iso.nullable(),
  createdAt: iso,
  ticks: z.object({
    run: z.number(),
    skipped: z.number(),
    waiting: z.number(),
    idle: z.number(),
  }),
});
export type ScheduleView = z.infer<typeof scheduleView>;
export const scheduleList = z.object({ items: z.array(scheduleView) });

export const workspaceView = z.object({
  task: z.string(),
  path: z.string(),
  /** Whether the worktree is on disk. */
  exists: z.boolean(),
  branch: z.string(),
  base: z.string(),
  baseCommit: z.string(),
  mergedAt: iso.nullable(),
  mergeCommit: z.string().nullable(),
  discardedAt: iso.nullable(),
  removedAt: iso.nullable(),
});
export type WorkspaceView = z.infer<typeof workspaceView>;

export const diffView = z.object({
  task: z.string(),
  branch: z.string(),
  base: z.string(),
  /** Set for a run's diff. */
  run: z.string().nullable(),
  from: z.string(),
  to: z.string(),
  /** Line counts are null for binary files. */
  files: z.array(
    z.object({ path: z.string(), added: z.number().nullable(), removed: z.number().nullable() }),
  ),
  /** The unified diff, as `git diff` prints it (binary files are named, not included). */
  patch: z.string(),
});
export type DiffView = z.infer<typeof diffView>;

export const mergeResult = z.object({
  task: z.string(),
  branch: z.string(),
  base: z.string(),
  outcome: z.enum(['merged', 'up_to_date']),
  commit: z.string(),
  squash: z.boolean(),
  /** The checkout whose base branch was moved forward, if the base was checked out. */
  updatedCheckout: z.string().nullable(),
});

export const discardResult = z.object({
  task: z.string(),
  branch: z.string(),
  /** Where the branch pointed: `git branch <name> <commit>` brings it back while git keeps the objects. */
  commit: z.string().nullable(),
  removedWorktree: z.string().nullable(),
});

const gcItem = z.object({
  kind: z.enum(['run_dir', 'worktree']),
  /** A run id, or a task id for a worktree. */
  id: z.string(),
  task: z.string(),
  path: z.string(),
  bytes: z.number(),
});

export const gcReport = z.object({
  dryRun: z.boolean(),
  olderThanMs: z.number(),
  keepFailed: z.boolean(),
  /** Removed directories, or with dryRun what would be. */
  removed: z.array(gcItem),
  skipped: z.array(z.object({ id: z.string(), path: z.string(), reason: z.string() })),
  bytesFreed: z.number(),
  /** Rows pruned per table, or with dryRun what would be. */
  rows: z.record(z.string(), z.number()),
  /** Runs whose logs and transcripts now answer "removed by gc" (or would). */
  outputRemoved: z.number(),
  /** How the database's freed space was returned; null on a dry run or when no row went. */
  space: z
    .object({
      mode: z.enum(['incremental', 'full', 'none', 'autovacuum', 'skipped']),
      reason: z.string(),
      bytesBefore: z.number(),
      bytesAfter: z.number(),
      ms: z.number(),
    })
    .nullable(),
});
export type GcReport = z.infer<typeof gcReport>;

export const health = z.object({
  ok: z.literal(true),
  version: z.string(),
  /** Whether this process runs an engine (a worker). */
  engine: z.boolean(),
});

export const loginLink = z.object({
  url: z.string(),
  /** Null where the server takes no token (auth: none): the URL is the board itself. */
  expiresAt: iso.nullable(),
});

export const session = z.object({ loggedIn: z.literal(true) });
