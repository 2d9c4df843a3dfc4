import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { openApp } from '../../app/context.js';
import { boardRedactor } from '../../app/secrets.js';
import { redactOutputWith } from '../output.js';

const VERSION = (
  JSON.parse(readFileSync(new URL('../../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

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
      const app = await openApp();
      // stdout is the protocol (its answers are redacted by the server); this covers stderr.
      redactOutputWith(boardRedactor(app));
      const server = createMcpServer(app, { version: VERSION });
      const closed = new Promise<void>((resolve) => {
        server.server.onclose = () => resolve();
      });
      await server.connect(new StdioServerTransport());
      process.stdin.once('end', () => void server.close());
      await closed;
      await app.store.close();
    });
}
