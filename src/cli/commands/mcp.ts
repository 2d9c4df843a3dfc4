import type { Command } from 'commander';
import { localBoard } from '../../app/board-access.js';
import { openApp } from '../../app/context.js';
import { boardRedactor, environmentRedactor } from '../../app/secrets.js';
import { remoteBoard } from '../../client/remote-board.js';
import { remoteTarget } from '../board.js';
import { redactOutputWith } from '../output.js';

/**
 * `agentboard mcp`: the board's MCP server on stdin/stdout, for an agent (or
 * an editor) to list, create and update tasks, comment, use the bus, read a
 * run's transcript and wait for tasks. It ends when its client closes stdin.
 */
export function registerMcp(program: Command): void {
  program
    .command('mcp')
    .description('serve the board as MCP tools over stdio (for agents and editors)')
    .action(async () => {
      // Loaded here: the SDK is big, and only this command needs it.
      const { StdioServerTransport } = await import('@modelcontextprotocol/sdk/server/stdio.js');
      const { createMcpServer } = await import('../../mcp/server.js');
      const remote = remoteTarget();
      // Inside a run the tools go through the API with the run's token; otherwise the board is opened here.
      const app = remote ? null : await openApp();
      const board = app ? localBoard(app) : remoteBoard(remote?.url ?? '', remote?.token ?? '');
      const redact = app ? boardRedactor(app) : environmentRedactor();
      // stdout is the protocol (its answers are redacted by the server); this covers stderr.
      redactOutputWith(redact);
      const server = createMcpServer(board, { redact });
      const closed = new Promise<void>((resolve) => {
        server.server.onclose = () => resolve();
      });
      await server.connect(new StdioServerTransport());
      process.stdin.once('end', () => void server.close());
      await closed;
      await app?.store.close();
    });
}
