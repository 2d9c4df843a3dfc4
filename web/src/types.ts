/** The API's shapes, as the board reads them (see /openapi.json). */

export const COLUMNS = ['backlog', 'todo', 'in_progress', 'review', 'done', 'blocked'] as const;
export const ALL_STATUSES = [...COLUMNS, 'cancelled'] as const;
export type TaskStatus = (typeof ALL_STATUSES)[number];
export const PRIORITIES = ['low', 'medium', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];

export const STATUS_LABEL: Record<TaskStatus, string> = {
  backlog: 'Backlog',
  todo: 'Todo',
  in_progress: 'In Progress',
  review: 'Review',
  done: 'Done',
  blocked: 'Blocked',
  cancelled: 'Cancelled',
};

export interface Loop {
  enabled: boolean;
  maxIterations: number;
  delayMs: number;
  doneFile: string;
}

export interface Task {
  id: string;
  title: string;
  body: string;
  status: TaskStatus;
  statusReason: string | null;
  priority: Priority;
  position: number;
  agent: string | null;
  labels: string[];
  parent: string | null;
  dependsOn: string[];
  verifyCommand: string | null;
  loop: Loop;
  maxAttempts: number | null;
  maxCostUsd: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface Comment {
  id: number;
  author: string;
  body: string;
  createdAt: string;
}

export const ACTIVE_RUN_STATES = ['queued', 'claimed', 'running'];

export interface Run {
  id: string;
  task: string;
  agent: string;
  state: string;
  trigger: string;
  attempt: number;
  maxAttempts: number;
  iteration: number;
  exitCode: number | null;
  exitSignal: string | null;
  errorSummary: string | null;
  stopReason: string | null;
  notice: string | null;
  stalled: boolean;
  /** Claimed or running, its lease expired, and no engine alive to adopt it or record its end. */
  unsupervised: boolean;
  denials: number;
  unparsedLines: number;
  cliVersion: string | null;
  costUsd: number;
  sessionId: string | null;
  outputBytes: number;
  createdAt: string;
  startedAt: string | null;
  endedAt: string | null;
  durationMs: number | null;
  /** Worktree runs: the branch commit before the run and after its work was committed. */
  commits?: { before: string; after: string | null } | null;
}

export interface TaskDetail extends Task {
  waitingOn: string[];
  children: { id: string; title: string; status: TaskStatus }[];
  comments: Comment[];
  runs: Run[];
  usage: { tokensIn: number; tokensOut: number; costUsd: number };
}

export interface Card {
  task: string;
  runs: number;
  costUsd: number;
  run: {
    id: string;
    state: string;
    agent: string;
    attempt: number;
    maxAttempts: number;
    iteration: number;
    startedAt: string | null;
    endedAt: string | null;
    lastOutputAt: string | null;
    exitCode: number | null;
    errorSummary: string | null;
    stalled: boolean;
    /** As Run.unsupervised; absent where the server does not say. */
    unsupervised?: boolean;
    notice: string | null;
    denials: number;
  } | null;
}

export interface TaskPage {
  items: Task[];
  total: number;
  counts: Record<string, number>;
  offset: number;
  nextOffset: number | null;
}

export interface BoardEvent {
  id: number;
  type: string;
  taskId: string | null;
  runId: string | null;
  data: Record<string, unknown>;
  createdAt: string;
}

export interface TranscriptEvent {
  seq: number;
  at: string;
  type: string;
  [k: string]: unknown;
}
