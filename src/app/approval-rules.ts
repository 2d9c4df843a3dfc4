/** A task's "always allow" rules: listing and removing them (allowing adds them: approvals.ts). */
import type { ApprovalRuleView } from '../contract/approvals.js';
import { NotFoundError } from '../domain/errors.js';
import { formatTaskId } from '../domain/ids.js';
import { type ApprovalRuleRow, deleteRule, getRule, rulesOfTask } from '../store/approvals.js';
import { appendEvent } from '../store/events.js';
import { getTask } from '../store/tasks.js';
import type { App } from './context.js';
import { requireTask, taskNotFound } from './task-lookup.js';

function ruleView(r: ApprovalRuleRow): ApprovalRuleView {
  return {
    id: r.id,
    task: formatTaskId(r.task_id),
    rule: r.rule,
    createdBy: r.created_by,
    createdAt: new Date(r.created_at).toISOString(),
  };
}

export async function listRules(app: App, taskId: number): Promise<ApprovalRuleView[]> {
  if (!(await getTask(app.store.db, taskId))) throw taskNotFound(taskId);
  return (await rulesOfTask(app.store.db, taskId)).map(ruleView);
}

/** Removes a task's rule: matching tool uses ask again. */
export async function removeRule(
  app: App,
  taskId: number,
  ruleId: number,
): Promise<ApprovalRuleView> {
  return app.store.tx(async (tx) => {
    await requireTask(tx, taskId);
    const rule = await getRule(tx.db, ruleId);
    if (!rule || rule.task_id !== taskId)
      throw new NotFoundError(
        'approval rule',
        String(ruleId),
        `${formatTaskId(taskId)} has no such rule`,
      );
    await deleteRule(tx, ruleId);
    await appendEvent(tx, 'task.updated', { taskId, data: { fields: ['approvalRules'] } });
    return ruleView(rule);
  });
}
