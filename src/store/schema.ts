import type { Generated } from 'kysely';
import type {
  ApprovalState,
  CatchUp,
  MessageType,
  Overlap,
  ReviewVerdict,
  RunState,
  RunTrigger,
  StopAction,
  TaskStatus,
  TickOutcome,
} from '../contract/vocabulary.js';

/**
 * Table shapes as Kysely sees them. Times are epoch milliseconds; booleans
 * are 0/1 integers and JSON is text, so both dialects store the same values.
 * Columns holding one of the board's words are typed with it (the contract's
 * lists): the database stores text, and only our code writes these columns.
 */
export interface TasksTable {
  id: number;
  title: string;
  body: string;
  status: TaskStatus;
  priority: number;
  position: number;
  agent: string | null;
  labels: string;
  parent_id: number | null;
  verify_command: string | null;
  loop_enabled: number;
  loop_max_iterations: number;
  loop_delay_ms: number;
  loop_done_file: string;
  max_attempts: number | null;
  max_cost_usd: number | null;
  status_reason: string | null;
  escalated_from_run_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface RunsTable {
  id: string;
  task_id: number;
  agent: string;
  state: RunState;
  trigger: RunTrigger;
  attempt: number;
  max_attempts: number;
  iteration: number;
  run_at: number;
  priority: number;
  prompt: string;
  resume_session_id: string | null;
  worker_id: string | null;
  lease_token: number | null;
  lease_expires_at: number | null;
  host: string | null;
  boot_id: string | null;
  pid: number | null;
  pgid: number | null;
  proc_start_time: number | null;
  exit_code: number | null;
  exit_signal: string | null;
  error_summary: string | null;
  session_id: string | null;
  tokens_in: number;
  tokens_out: number;
  tokens_cache_read: number;
  tokens_cache_write: number;
  cost_usd: number;
  cost_source: string | null;
  max_cost_usd: number | null;
  /** The model the agent reported (or was configured with), for price estimates. */
  model: string | null;
  /** The agent's latest notice, e.g. "model API auth failing (401), retry 6 of 10". */
  notice: string | null;
  /** Bytes of stdout already turned into run_events: parsing resumes here. */
  parsed_offset: number;
  event_count: number;
  cpu_ms: number | null;
  peak_rss_bytes: number | null;
  verify_exit_code: number | null;
  verify_output: string | null;
  stalled_at: number | null;
  stop_requested_at: number | null;
  stop_reason: string | null;
  /** What a requested stop leads to: `block` the card, `cancel` the task, or a monitor's verdict. */
  stop_action: StopAction | null;
  last_output_at: number | null;
  output_bytes: number;
  previous_run_id: string | null;
  parent_run_id: string | null;
  created_at: number;
  claimed_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  /** Where the agent ran, when not the board's workdir (a task worktree, a scratch dir). */
  workdir: string | null;
  /** The workspace's HEAD when the run started and after its work was committed. */
  commit_before: string | null;
  commit_after: string | null;
  /** The agent CLI's version that ran, when it could be read. */
  cli_version: string | null;
  /** Tool uses the agent's permission rules refused during the run. */
  denials: number;
  /** Output lines the adapter could not parse (a CLI version or format it does not know). */
  unparsed_lines: number;
  /** The transcript parser's state at `parsed_offset` (JSON), so a new parser resumes it. */
  parser_state: string | null;
  /** The session's running totals at the end of this run (JSON SessionTotals), for a resumed run's baseline. */
  session_totals: string | null;
  /** When gc removed the run's logs and transcript (migration 006); null while they are kept. */
  output_removed_at: number | null;
  /** SHA-256 (hex) of the run's own API token (migration 007); null for runs that never started. */
  api_token_hash: string | null;
}

export interface RunEventsTable {
  run_id: string;
  seq: number;
  type: string;
  data: string;
  created_at: number;
}

export interface TaskDependenciesTable {
  task_id: number;
  depends_on_id: number;
}

export interface CommentsTable {
  id: Generated<number>;
  task_id: number;
  author: string;
  body: string;
  created_at: number;
}

export interface EventsTable {
  id: number;
  /**
   * Text, not EventType: a newer agentboard sharing the database may have
   * written a type this one does not know. Writes are typed (appendEvent).
   */
  type: string;
  task_id: number | null;
  run_id: string | null;
  data: string;
  created_at: number;
}

export interface MessagesTable {
  id: Generated<number>;
  task_id: number | null;
  run_id: string | null;
  type: MessageType;
  author: string;
  body: string;
  created_at: number;
}

export interface SchedulesTable {
  id: Generated<number>;
  cron: string;
  timezone: string | null;
  agent: string | null;
  prompt: string;
  task_id: number | null;
  catch_up: CatchUp;
  catch_up_window_ms: number;
  overlap: Overlap;
  enabled: number;
  last_tick_at: number | null;
  created_at: number;
  /** Title of the tasks the schedule creates (migration 004). */
  title: string | null;
  /** 1 for an agent's heartbeat, kept in step with its config (migration 004). */
  heartbeat: number;
}

export interface ScheduleTicksTable {
  schedule_id: number;
  tick_at: number;
  task_id: number | null;
  run_id: string | null;
  created_at: number;
  /** run | skipped | waiting | idle (migration 004). */
  outcome: TickOutcome;
  reason: string | null;
}

export interface WorkersTable {
  id: string;
  host: string;
  boot_id: string;
  pid: number;
  proc_start_time: number | null;
  labels: string;
  started_at: number;
  heartbeat_at: number;
  stopped_at: number | null;
  /** The most runs this worker runs at once; null: only the board's limits apply. */
  concurrency: number | null;
}

/** A slice of a run's log shipped to the database by the worker running it. */
export interface RunOutputTable {
  run_id: string;
  stream: 'stdout' | 'stderr';
  offset: number;
  data: Uint8Array;
  created_at: number;
}

/** A task's git worktree and branch; the row outlives the directory (gc removes only that). */
export interface WorkspacesTable {
  task_id: number;
  repo: string;
  path: string;
  branch: string;
  base_branch: string;
  base_commit: string;
  created_at: number;
  updated_at: number;
  merged_at: number | null;
  merge_commit: string | null;
  discarded_at: number | null;
  removed_at: number | null;
}

/** When a periodic maintenance job (gc) last ran: its schedule survives restarts. */
export interface MaintenanceTable {
  name: string;
  last_run_at: number;
  summary: string | null;
}

export interface CountersTable {
  name: string;
  value: number;
}

export interface SchemaVersionTable {
  version: number;
  applied_at: number;
}

export interface ReviewsTable {
  id: Generated<number>;
  task_id: number;
  verdict: ReviewVerdict;
  body: string;
  author: string;
  reviewed_commit: string | null;
  run_id: string | null;
  created_at: number;
}

export interface ReviewCommentsTable {
  id: Generated<number>;
  task_id: number;
  /** null while the comment is a draft. */
  review_id: number | null;
  file: string;
  line: number;
  side: 'old' | 'new';
  quote: string;
  body: string;
  author: string;
  created_at: number;
}

export interface PullRequestsTable {
  task_id: number;
  branch: string;
  remote: string | null;
  pushed_commit: string | null;
  pushed_at: number | null;
  url: string | null;
  opened_at: number | null;
  updated_at: number;
}

export interface ApprovalsTable {
  id: number;
  task_id: number;
  run_id: string;
  agent: string;
  tool: string;
  /** The tool's input, JSON. */
  input: string;
  tool_use_id: string | null;
  state: ApprovalState;
  asked_at: number;
  decided_at: number | null;
  decided_by: string | null;
  message: string | null;
  rule: string | null;
}

export interface ApprovalRulesTable {
  id: number;
  task_id: number;
  rule: string;
  created_by: string;
  created_at: number;
}

export interface DB {
  tasks: TasksTable;
  runs: RunsTable;
  run_events: RunEventsTable;
  task_dependencies: TaskDependenciesTable;
  comments: CommentsTable;
  events: EventsTable;
  messages: MessagesTable;
  schedules: SchedulesTable;
  schedule_ticks: ScheduleTicksTable;
  workers: WorkersTable;
  run_output: RunOutputTable;
  counters: CountersTable;
  workspaces: WorkspacesTable;
  approvals: ApprovalsTable;
  approval_rules: ApprovalRulesTable;
  reviews: ReviewsTable;
  review_comments: ReviewCommentsTable;
  pull_requests: PullRequestsTable;
  maintenance: MaintenanceTable;
  schema_version: SchemaVersionTable;
}
