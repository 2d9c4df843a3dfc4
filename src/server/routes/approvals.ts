import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { listRules, removeRule } from '../../app/approval-rules.js';
import { waitApproval } from '../../app/approval-wait.js';
import {
  allowApproval,
  denyApproval,
  getApprovalView,
  listApprovals,
  requestApproval,
} from '../../app/approvals.js';
import { taskOfRun } from '../../app/read-runs.js';
import {
  allowApprovalBody,
  approvalList,
  approvalListQuery,
  approvalParams,
  approvalRuleList,
  approvalRuleView,
  approvalView,
  approvalWaitQuery,
  denyApprovalBody,
  requestApprovalBody,
} from '../../contract/approvals.js';
import { runParams, taskParams, taskRef } from '../../contract/requests.js';
import type { ServerContext } from '../context.js';
import { refusedToRun } from '../run-scope.js';

const ruleParams = z.strictObject({
  id: taskRef,
  ruleId: z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
});

/**
 * Approvals over HTTP (DESIGN.md §9). A run's token may only ask, for its
 * own run, and read; allowing and denying are a person's (the owner's token).
 */
export function approvalRoutes(f: FastifyInstance, { app, routes }: ServerContext): void {
  routes.add(f, {
    method: 'GET',
    url: '/api/v1/approvals',
    tag: 'approvals',
    summary:
      'Approval requests: pending ones oldest first (state=pending), any other filter newest first',
    query: approvalListQuery,
    response: approvalList,
    handler: async ({ query }) => ({
      items: await listApprovals(app, {
        state: query.state,
        taskId: query.task,
        limit: query.limit,
      }),
    }),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/approvals/:id',
    tag: 'approvals',
    summary: 'One approval request',
    params: approvalParams,
    response: approvalView,
    handler: ({ params }) => getApprovalView(app, params.id),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/approvals/:id/wait',
    tag: 'approvals',
    summary:
      'Hold the request until the approval is decided, or timeoutMs passes (at most 60 s: it is then still pending; ask again)',
    params: approvalParams,
    query: approvalWaitQuery,
    response: approvalView,
    handler: ({ params, query, reply }) => {
      // A client that hangs up stops the wait: nothing is held for nobody.
      const gone = new AbortController();
      reply.raw.once('close', () => gone.abort());
      return waitApproval(app, params.id, query.timeoutMs, gone.signal);
    },
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/approvals/:id/allow',
    tag: 'approvals',
    summary:
      'Allow a pending request once, or with `always` (or a `rule`) add the rule to its task: later matching tool uses do not ask. 409 approval_decided when already decided.',
    params: approvalParams,
    body: allowApprovalBody,
    response: approvalView,
    handler: ({ params, body }) => allowApproval(app, params.id, body ?? {}),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/approvals/:id/deny',
    tag: 'approvals',
    summary:
      'Deny a pending request; the agent receives the message. 409 approval_decided when already decided.',
    params: approvalParams,
    body: denyApprovalBody,
    response: approvalView,
    handler: ({ params, body }) => denyApproval(app, params.id, body),
  });

  routes.add(f, {
    method: 'GET',
    url: '/api/v1/tasks/:id/approval-rules',
    tag: 'approvals',
    summary: 'A task’s "always allow" rules',
    params: taskParams,
    response: approvalRuleList,
    handler: async ({ params }) => ({ items: await listRules(app, params.id) }),
  });

  routes.add(f, {
    method: 'DELETE',
    url: '/api/v1/tasks/:id/approval-rules/:ruleId',
    tag: 'approvals',
    summary: 'Remove a task’s rule: matching tool uses ask again',
    params: ruleParams,
    response: approvalRuleView,
    handler: ({ params }) => removeRule(app, params.id, params.ruleId),
  });

  routes.add(f, {
    method: 'POST',
    url: '/api/v1/runs/:id/approvals',
    tag: 'approvals',
    summary:
      'Ask a person to decide a tool use (a run’s own token, for its own run). The same toolUseId again returns the same request; a task rule that matches allows it at once.',
    params: runParams,
    body: requestApprovalBody,
    status: 201,
    response: approvalView,
    runScope: async ({ params, request }) => {
      // Its own run only: a run of a parent task may not ask for a subtask's.
      if (request.runPrincipal && request.runPrincipal.runId !== params.id)
        throw refusedToRun(request, `ask for approval for run ${params.id}, which is not its own`);
      return (await taskOfRun(app, params.id)) ?? 'board';
    },
    handler: ({ params, body }) => requestApproval(app, params.id, body),
  });
}
