/** An approval row as the contract shows it: the subject, the suggested rule, how long it waited. */
import type { ApprovalView } from '../contract/approvals.js';
import { subjectOf } from '../domain/approval-subject.js';
import { suggestedRule } from '../domain/approvals.js';
import { formatTaskId } from '../domain/ids.js';
import type { ApprovalRow } from '../store/approvals.js';

/** The stored input, an object (anything else reads as empty). */
export function parseApprovalInput(text: string): Record<string, unknown> {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v)
      ? (v as Record<string, unknown>)
      : {};
  } catch {
    return {};
  }
}

/** `cwd`: the run's working directory, which file rules are relative to. */
export function approvalViewOf(r: ApprovalRow, cwd: string, now: number): ApprovalView {
  const use = { tool: r.tool, input: parseApprovalInput(r.input) };
  return {
    id: r.id,
    task: formatTaskId(r.task_id),
    run: r.run_id,
    agent: r.agent,
    tool: r.tool,
    input: use.input,
    subject: subjectOf(use),
    state: r.state,
    askedAt: new Date(r.asked_at).toISOString(),
    decidedAt: r.decided_at === null ? null : new Date(r.decided_at).toISOString(),
    decidedBy: r.decided_by,
    message: r.message,
    rule: r.rule,
    // Empty when no rule narrower than the whole tool covers it: the person writes one.
    suggestedRule: suggestedRule(use, cwd) ?? '',
    waitedMs: Math.max(0, (r.decided_at ?? now) - r.asked_at),
  };
}
