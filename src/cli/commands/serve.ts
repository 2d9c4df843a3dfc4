import type { Command } from 'commander';
import { nonNegativeInt } from '../args.js';

export interface ServeFlags {
  host?: string;
  port?: number;
  /** false with --no-worker: the API only, runs are claimed elsewhere. */
  worker?: boolean;
}

/**
 * `agentboard serve`: the HTTP API and the engine in the foreground. SIGTERM
 * or SIGINT stop it gracefully: it stops claiming and leaves running agents
 * alone; the next start re-adopts them (their output keeps streaming, their
 * exit is recorded).
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run the API and the engine: dispatch, supervise and recover runs (Ctrl-C leaves agents running)',
    )
    .option(
      '--host <address>',
      'address to listen on (default 127.0.0.1; server.auth: none is allowed only on loopback)',
    )
    .option(
      '--port <n>',
      'port to listen on (default 4317; 0 picks a free one)',
      nonNegativeInt('--port'),
    )
    .option('--no-worker', 'claim and run nothing here (the API only; workers run elsewhere)')
    .action(async (f: ServeFlags) => (await import('./serve-run.js')).serveInForeground(f));
}
