/**
 * The owner's approval tools: list what waits for a decision, allow, deny.
 * Through a run's token the board refuses allow and deny (a run never
 * decides for itself); the list is readable.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { BoardAccess } from '../app/board-access.js';
import { approvalRule } from '../contract/approvals.js';
import { APPROVAL_STATES } from '../contract/vocabulary.js';
import { parseTaskId } from '../domain/ids.js';

const approvalId = z
  .union([z.number().int().min(1), z.string().regex(/^(A-?)?[1-9][0-9]{0,15}$/i)])
  .describe('an approval id, e.g. 12 or A-12');

const idOf = (v: number | string): number =>
  typeof v === 'number' ? v : Number(/[0-9]+$/.exec(v)?.[0]);

type Tool = <A>(
  run: (args: A, signal: AbortSignal) => Promise<unknown>,
) => (args: A, extra: { signal: AbortSignal }) => Promise<CallToolResult>;

export function registerApprovalTools(
  server: McpServer,
  board: BoardAccess,
  tool: Tool,
  author: string,
): void {
  server.registerTool(
    'list_approvals',
    {
      description:
        'Tool uses agents asked a person to decide: pending ones (oldest first) unless `all` or a `state` is given.',
      inputSchema: {
        state: z.enum(APPROVAL_STATES).optional(),
        all: z.boolean().optional().describe('every state, newest first'),
        task: z
          .string()
          .regex(/^(T-?)?[1-9][0-9]{0,15}$/i)
          .optional(),
        limit: z.number().int().min(1).max(500).default(100),
      },
    },
    tool(async (a) =>
      board.listApprovals({
        state: a.state ?? (a.all ? undefined : 'pending'),
        ...(a.task ? { taskId: parseTaskId(a.task) } : {}),
        limit: a.limit,
      }),
    ),
  );

  server.registerTool(
    'approve',
    {
      description:
        'Allow a pending tool use. With `always`, also add a rule to its task (`rule`, or the suggested one) so matching tool uses do not ask again.',
      inputSchema: {
        id: approvalId,
        always: z.boolean().optional(),
        rule: approvalRule.optional().describe('e.g. Bash(npm test:*) or Edit(src/**)'),
      },
    },
    tool(async (a) =>
      board.allowApproval(idOf(a.id), {
        ...(a.always ? { always: true } : {}),
        ...(a.rule ? { rule: a.rule } : {}),
        by: author,
      }),
    ),
  );

  server.registerTool(
    'deny',
    {
      description:
        'Deny a pending tool use; the agent receives the message: say why, and what to do instead.',
      inputSchema: { id: approvalId, message: z.string().min(1).max(10_000) },
    },
    tool(async (a) => board.denyApproval(idOf(a.id), { message: a.message, by: author })),
  );
}
