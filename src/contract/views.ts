/**
 * What the API answers for tasks, runs, cards, events and messages. Each
 * route parses its answer through one of these (src/server/route.ts): a field
 * not named here never leaves the server. Times are ISO 8601 strings.
 */
import { z } from 'zod';
import { approvalRuleView, approvalView } from './approvals.js';
import {
  MESSAGE_TYPES,
  PRIORITIES,
  RUN_STATES,
  RUN_TRIGGERS,
  TASK_STATUSES,
} from './vocabulary.js';

const taskStatus = z.enum(TASK_STATUSES);
const runState = z.enum(RUN_STATES);
const iso = z.string();

/** The public shape of a task: what `--json` prints and the API returns. */
export const taskView = z.object({
  id: z.string(),
  title: z.string(),
  body: z.string(),
  status: taskStatus,
  statusReason: z.string().nullable(),
  priority: z.enum(PRIORITIES),
  position: z.number(),
  agent: z.string().nullable(),
  labels: z.array(z.string()),
  parent: z.string().nullable(),
  dependsOn: z.array(z.string()),
  verifyCommand: z.string().nullable(),
  loop: z.object({
    enabled: z.boolean(),
    maxIterations: z.number(),
    delayMs: z.number(),
    doneFile: z.string(),
  }),
  maxAttempts: z.number().nullable(),
  maxCostUsd: z.number().nullable(),
  createdAt: iso,
  updatedAt: iso,
});
export type TaskView = z.infer<typeof taskView>;

export const runView = z.object({
  id: z.string(),
  task: z.string(),
  agent: z.string(),
  state: runState,
  trigger: z.enum(RUN_TRIGGERS),
  attempt: z.number(),
  maxAttempts: z.number(),
  iteration: z.number(),
  runAt: iso,
  pid: z.number().nullable(),
  host: z.string().nullable(),
  exitCode: z.number().nullable(),
  exitSignal: z.string().nullable(),
  errorSummary: z.string().nullable(),
  stopReason: z.string().nullable(),
  /** The agent's latest notice, e.g. a model API retry. */
  notice: z.string().nullable(),
  stalled: z.boolean(),
  /**
   * Claimed or running, its lease expired, and no engine alive to adopt it or
   * record its end: its state will not change until one starts.
   */
  unsupervised: z.boolean(),
  /** Tool uses the agent's permission rules denied. */
  denials: z.number(),
  /** Output lines the adapter could not parse. */
  unparsedLines: z.number(),
  /** The agent CLI's version that ran. */
  cliVersion: z.string().nullable(),
  usage: z.object({
    tokensIn: z.number(),
    tokensOut: z.number(),
    cacheRead: z.number(),
    cacheWrite: z.number(),
  }),
  costUsd: z.number(),
  costSource: z.string().nullable(),
  sessionId: z.string().nullable(),
  cpuMs: z.number().nullable(),
  peakRssBytes: z.number().nullable(),
  outputBytes: z.number(),
  verify: z.object({ exitCode: z.number(), output: z.string().nullable() }).nullable(),
  previousRun: z.string().nullable(),
  /** Worktree runs: the task branch's commit before the run, and after its work was committed. */
  commits: z.object({ before: z.string(), after: z.string().nullable() }).nullable(),
  createdAt: iso,
  startedAt: iso.nullable(),
  endedAt: iso.nullable(),
  durationMs: z.number().nullable(),
});
export type RunView = z.infer<typeof runView>;

export const commentView = z.object({
  id: z.number(),
  author: z.string(),
  body: z.string(),
  createdAt: iso,
});
export type CommentView = z.infer<typeof commentView>;

/** A new comment; an @agent mention in it queued `mentionRun`. */
export const commentResult = commentView.extend({ mentionRun: runView.nullable() });

/** A task with what its page shows: what it waits on, subtasks, comments, runs, usage. */
export const taskDetail = taskView.extend({
  waitingOn: z.array(z.string()),
  children: z.array(z.object({ id: z.string(), title: z.string(), status: taskStatus })),
  comments: z.array(commentView),
  runs: z.array(runView),
  usage: z.object({ tokensIn: z.number(), tokensOut: z.number(), costUsd: z.number() }),
  /** The task's approval requests: pending first, then the latest decided. */
  approvals: z.array(approvalView),
  /** Its "always allow" rules. */
  approvalRules: z.array(approvalRuleView),
  pullRequestUrl: z.string().nullable(),
});
export type TaskDetail = z.infer<typeof taskDetail>;

export const page = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    total: z.number(),
    offset: z.number(),
    nextOffset: z.number().nullable(),
  });

export const taskPage = page(taskView).extend({
  /** Cards per column for the same filter. */
  counts: z.partialRecord(taskStatus, z.number()),
});
export type TaskPage = z.infer<typeof taskPage>;

export const deleted = z.object({ id: z.string(), deleted: z.literal(true) });
export type Deleted = z.infer<typeof deleted>;

export const commentList = z.object({ items: z.array(commentView) });

/** A board card's run summary: the task's latest run, its run count and total cost. */
export const cardView = z.object({
  task: z.string(),
  runs: z.number(),
  costUsd: z.number(),
  /** Tool uses waiting for a person's decision, and since when the oldest has waited. */
  approvals: z.object({ pending: z.number(), since: iso.nullable() }),
  /** The pull request opened for the task's branch. */
  pullRequestUrl: z.string().nullable(),
  run: z
    .object({
      id: z.string(),
      state: runState,
      agent: z.string(),
      attempt: z.number(),
      maxAttempts: z.number(),
      iteration: z.number(),
      startedAt: iso.nullable(),
      endedAt: iso.nullable(),
      lastOutputAt: iso.nullable(),
      exitCode: z.number().nullable(),
      errorSummary: z.string().nullable(),
      stalled: z.boolean(),
      notice: z.string().nullable(),
      denials: z.number(),
      /** As RunView.unsupervised. */
      unsupervised: z.boolean(),
    })
    .nullable(),
});
export type CardView = z.infer<typeof cardView>;
export const cardList = z.object({ items: z.array(cardView) });

/**
 * A board event. `type` is one of EVENT_TYPES (event-types.ts), `data` its
 * payload (events.ts); it is typed as text because a newer agentboard
 * sharing the database may write types this one does not know.
 */
export const eventView = z.object({
  id: z.number(),
  type: z.string(),
  taskId: z.string().nullable(),
  runId: z.string().nullable(),
  data: z.record(z.string(), z.unknown()),
  createdAt: iso,
});
export type EventView = z.infer<typeof eventView>;

export const eventPage = z.object({
  items: z.array(eventView),
  /** The cursor to pass as `after` next time. */
  next: z.number(),
  /** Whether the page was full: more may follow at once. */
  more: z.boolean(),
});
export const recentEvents = z.object({
  items: z.array(eventView),
  /** The newest event's id: resume the SSE feed with ?after=last. */
  last: z.number(),
});
export type RecentEvents = z.infer<typeof recentEvents>;

/**
 * One normalized transcript event of a run (src/agents: text, tool use,
 * result…). Its fields depend on `type`, so every field is kept.
 */
export const transcriptEvent = z.looseObject({ seq: z.number(), at: iso, type: z.string() });
export type TranscriptEvent = z.infer<typeof transcriptEvent>;
export const transcriptPage = z.object({
  items: z.array(transcriptEvent),
  next: z.number(),
  more: z.boolean(),
});

export const messageView = z.object({
  id: z.number(),
  taskId: z.string().nullable(),
  runId: z.string().nullable(),
  type: z.enum(MESSAGE_TYPES),
  author: z.string(),
  body: z.string(),
  createdAt: iso,
});
export type MessageView = z.infer<typeof messageView>;
export const messagePage = z.object({
  items: z.array(messageView),
  next: z.number(),
  more: z.boolean(),
});

const treeRun = z.object({
  id: z.string(),
  agent: z.string(),
  state: runState,
  trigger: z.string(),
  attempt: z.number(),
  exitCode: z.number().nullable(),
  errorSummary: z.string().nullable(),
  startedAt: iso.nullable(),
  endedAt: iso.nullable(),
});

export const treeNode = z.object({
  id: z.string(),
  title: z.string(),
  status: taskStatus,
  statusReason: z.string().nullable(),
  agent: z.string().nullable(),
  runs: z.array(treeRun),
  get children() {
    return z.array(treeNode);
  },
});
export type TreeNode = z.infer<typeof treeNode>;
export const taskTree = z.object({
  root: treeNode,
  /** Nodes in the tree; a tree larger than the limit is cut and says so. */
  size: z.number(),
  truncated: z.boolean(),
});

export const waitResult = z.object({
  /** done: every task finished; failed: one is Blocked or Cancelled; timeout: time ran out. */
  outcome: z.enum(['done', 'failed', 'timeout']),
  tasks: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      status: taskStatus,
      statusReason: z.string().nullable(),
    }),
  ),
  waitedMs: z.number(),
});
