import type { Command } from 'commander';
import { listWorkers } from '../../app/workers.js';
import { ConfigError } from '../../domain/errors.js';
import { positiveInt } from '../args.js';
import { printErr, printJson, println } from '../output.js';
import { withApp } from '../with-app.js';

/**
 * `agentboard worker`: claims and runs agents on this host for a board kept in
 * PostgreSQL (AGENTBOARD_DATABASE_URL), next to other workers on other hosts.
 * `agentboard workers`: who is out there, alive or not.
 */
export function registerWorker(program: Command): void {
  program
    .command('worker')
    .description('run agents on this host for a PostgreSQL board shared by several hosts')
    .option(
      '--labels <labels>',
      'what this host can run: agent names, plus the labels those agents require (comma-separated; default: every configured agent)',
      (v: string) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s.length > 0),
    )
    .option(
      '--concurrency <n>',
      'the most runs this worker runs at once',
      positiveInt('concurrency'),
    )
    .action(async (f: { labels?: string[]; concurrency?: number }) => {
      if (!process.env.AGENTBOARD_DATABASE_URL) {
        throw new ConfigError(
          'agentboard worker needs the shared database: set AGENTBOARD_DATABASE_URL=postgres://... (the same on every host); on one machine, `agentboard serve` runs the engine',
        );
      }
      const apiUrl = boardApiUrl(process.env.AGENTBOARD_URL);
      if (!apiUrl) {
        printErr(
          'warning: AGENTBOARD_URL is not set, so agents run here cannot call the board back (agentboard bus post, task add --parent, task wait): set it to the board API’s address, e.g. AGENTBOARD_URL=http://board-host:4317',
        );
      }
      await (await import('./serve-run.js')).runEngineInForeground({
        ...(f.labels ? { labels: f.labels } : {}),
        ...(f.concurrency ? { concurrency: f.concurrency } : {}),
        ...(apiUrl ? { apiUrl } : {}),
      });
    });

  program
    .command('workers')
    .description('list the workers: host, labels, heartbeat, alive or dead, runs held')
    .option('--json', 'print JSON')
    .action(async (f: { json?: boolean }) => {
      const workers = await withApp((app) => listWorkers(app));
      if (f.json) {
        printJson(workers);
        return;
      }
      if (workers.length === 0) {
        println('no workers');
        return;
      }
      const now = Date.now();
      for (const w of workers) {
        const ago = Math.max(0, Math.round((now - w.lastHeartbeatAt) / 1000));
        println(
          `${w.alive ? 'alive' : 'dead '}  ${w.id}  labels ${w.labels.join(',') || '-'}  concurrency ${w.concurrency ?? '-'}  running ${w.running}  heartbeat ${ago}s ago`,
        );
      }
    });
}

/** AGENTBOARD_URL, checked: an http(s) address, or a clear error now rather than in every agent. */
function boardApiUrl(raw: string | undefined): string | null {
  if (!raw) return null;
  let u: URL | null = null;
  try {
    u = new URL(raw);
  } catch {
    u = null;
  }
  if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
    throw new ConfigError(
      `AGENTBOARD_URL=${raw} is not an http(s) address: set it to the board API's, e.g. http://board-host:4317`,
    );
  }
  return u.href.replace(/\/+$/, '');
}
