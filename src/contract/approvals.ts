/**
 * Approvals: a tool use an agent asked a person to decide. A request is a
 * row (DESIGN.md §9): the agent's side waits on it, so a pending request
 * survives a server crash and a decision made after a restart lets the run go on.
 */
import { z } from 'zod';
import { APPROVAL_STATES } from './vocabulary.js';

const iso = z.string();

/** What the request shows a person, worked out from the tool's input. */
export const approvalSubject = z.discriminatedUnion('kind', [
  /** A shell command (Claude's Bash). */
  z.object({ kind: z.literal('command'), command: z.string(), description: z.string().nullable() }),
  /** A file edit or write: the file, and the change as a unified diff. */
  z.object({ kind: z.literal('edit'), file: z.string(), diff: z.string() }),
  /** Anything else: the input is shown as JSON. */
  z.object({ kind: z.literal('other') }),
]);
export type ApprovalSubject = z.infer<typeof approvalSubject>;

export const approvalView = z.object({
  id: z.number(),
  task: z.string(),
  run: z.string(),
  agent: z.string(),
  /** The tool's name as the agent calls it, e.g. `Bash`, `Edit`, `mcp__x__y`. */
  tool: z.string(),
  /** The tool's full input, as the agent sent it (secrets masked). */
  input: z.record(z.string(), z.unknown()),
  subject: approvalSubject,
  state: z.enum(APPROVAL_STATES),
  askedAt: iso,
  decidedAt: iso.nullable(),
  /** Who decided: a user's name, `rule:<rule>` for a task rule, `timeout`, or `run-ended`. */
  decidedBy: z.string().nullable(),
  /** A denial's message, which the agent receives. */
  message: z.string().nullable(),
  /** The rule an "always allow" added, e.g. `Bash(npm test:*)`. */
  rule: z.string().nullable(),
  /** The rule this request would add if allowed always: what the page offers. */
  suggestedRule: z.string(),
  /** How long it has waited (pending) or waited (decided), in ms. */
  waitedMs: z.number(),
});
export type ApprovalView = z.infer<typeof approvalView>;
export const approvalList = z.object({ items: z.array(approvalView) });

/** A task's "always allow" rules: a matching tool use does not ask again. */
export const approvalRuleView = z.object({
  id: z.number(),
  task: z.string(),
  rule: z.string(),
  createdBy: z.string(),
  createdAt: iso,
});
export type ApprovalRuleView = z.infer<typeof approvalRuleView>;
export const approvalRuleList = z.object({ items: z.array(approvalRuleView) });

const approvalRef = z
  .string()
  .max(24)
  .regex(/^(A-?)?[1-9][0-9]{0,15}$/i, 'an approval id looks like A-12 or 12')
  .transform((s) => Number(/[0-9]+$/.exec(s)?.[0]));
export const approvalParams = z.strictObject({ id: approvalRef });

export const approvalListQuery = z.strictObject({
  state: z.enum(APPROVAL_STATES).optional(),
  task: z
    .string()
    .max(24)
    .regex(/^(T-?)?[1-9][0-9]{0,15}$/i, 'a task id looks like T-42')
    .transform((s) => Number(/[0-9]+$/.exec(s)?.[0]))
    .optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** A rule: a tool name, optionally with a pattern, e.g. `Bash(npm test:*)`, `Edit`, `Write(src/**)`. */
export const approvalRule = z
  .string()
  .min(1)
  .max(500)
  .regex(/^[A-Za-z0-9_.-]+(\(.+\))?$/, 'a rule looks like Bash(npm test:*) or Edit');

export const allowApprovalBody = z
  .strictObject({
    /** Also allow matching tool uses on this task from now on. */
    always: z.boolean().optional(),
    /** The rule to add with `always`; defaults to the request's suggested rule. */
    rule: approvalRule.optional(),
    by: z.string().min(1).max(64).optional(),
  })
  .optional();

export const denyApprovalBody = z.strictObject({
  /** What the agent is told: why, and what to do instead. */
  message: z.string().min(1).max(10_000),
  by: z.string().min(1).max(64).optional(),
});

/** An agent's request (with its run's token): the tool and its input. */
export const requestApprovalBody = z.strictObject({
  tool: z.string().min(1).max(200),
  input: z.record(z.string(), z.unknown()),
  /** The agent's id for the tool use, when it has one. */
  toolUseId: z.string().max(200).optional(),
});

export const approvalWaitQuery = z.strictObject({
  timeoutMs: z.coerce.number().int().min(0).max(60_000).default(30_000),
});
