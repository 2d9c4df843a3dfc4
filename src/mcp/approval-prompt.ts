import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { BoardAccess } from '../app/board-access.js';
import type { Redactor } from '../domain/redact.js';

/** The tool Claude Code's --permission-prompt-tool names (issue 18). */
export function registerApprovalPrompt(
  _server: McpServer,
  _board: BoardAccess,
  _redact: Redactor,
): void {}
