/**
 * The API's shapes, as the board names them: every one is the contract's
 * (src/contract), inferred from the zod schemas the server answers through.
 * Nothing here restates a field; only the board's own labels live here.
 */
import type { ApprovalRuleView, ApprovalView } from '../../src/contract/approvals.js';
import type {
  PullRequestResult,
  PushResult,
  ReviewCommentView,
  ReviewResult as ReviewResultView,
  TaskReview as TaskReviewView,
} from '../../src/contract/review.js';
import type { DiffView } from '../../src/contract/service-views.js';
import type {
  CardView,
  CommentView,
  EventView,
  RunView,
  TaskDetail as TaskDetailView,
  TaskPage as TaskPageView,
  TaskView,
  TranscriptEvent as TranscriptEventView,
} from '../../src/contract/views.js';
import {
  ACTIVE_RUN_STATES as ACTIVE,
  BOARD_COLUMNS,
  isOneOf,
  PRIORITIES as PRIORITY_LIST,
  type Priority,
  RUN_STATES as RUN_STATE_LIST,
  type TaskStatus as Status,
  TASK_STATUSES,
} from '../../src/contract/vocabulary.js';

export type { Priority } from '../../src/contract/vocabulary.js';
export type TaskStatus = Status;
export type Task = TaskView;
export type Comment = CommentView;
export type Run = RunView;
export type TaskDetail = TaskDetailView;
export type Card = CardView;
export type TaskPage = TaskPageView;
export type BoardEvent = EventView;
export type TranscriptEvent = TranscriptEventView;
export type Approval = ApprovalView;
export type ApprovalRule = ApprovalRuleView;
export type ReviewComment = ReviewCommentView;
export type TaskReview = TaskReviewView;
export type ReviewResult = ReviewResultView;
export type Diff = DiffView;
export type { PullRequestResult, PushResult };

export const COLUMNS = BOARD_COLUMNS;
export const ALL_STATUSES = TASK_STATUSES;
export const PRIORITIES = PRIORITY_LIST;
export const RUN_STATES = RUN_STATE_LIST;

/** A column name read back from the page (a data attribute, a select), checked; null if it is none. */
export function taskStatusOf(text: string | undefined): TaskStatus | null {
  return text !== undefined && isOneOf(TASK_STATUSES, text) ? text : null;
}

/** A priority read back from the page, checked; null if it is none. */
export function priorityOf(text: string): Priority | null {
  return isOneOf(PRIORITY_LIST, text) ? text : null;
}
/** Run states in which a run is still going: a string list, so any state text can be looked up. */
export const ACTIVE_RUN_STATES: readonly string[] = ACTIVE;

export const STATUS_LABEL: Record<TaskStatus, string> = {
  backlog: 'Backlog',
  todo: 'Todo',
  in_progress: 'In Progress',
  review: 'Review',
  done: 'Done',
  blocked: 'Blocked',
  cancelled: 'Cancelled',
};
