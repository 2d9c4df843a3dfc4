/** Shared by the worker tests: a PostgreSQL board, `agentboard worker` processes, the ledger. Not a test file. */
import fs from 'node:fs';
import path from 'node:path';
import { type App, openApp } from '../../src/app/context.js';
import { ServeProcess } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

export interface WorkerBoard {
  home: string;
  ledger: string;
  databaseUrl: string;
  open(): Promise<App>;
  /** Starts `agentboard worker` with these arguments and waits until it is ready. */
  startWorker(args?: string[], env?: Record<string, string>): Promise<ServeProcess>;
}

/**
 * An agent that appends "+ <time> <agent> <run>" when it starts and
 * "- <time> ..." when it ends (bash's $EPOCHREALTIME: no extra process), after
 * sleeping `sleepSeconds` (0: none, the trivial agent).
 */
export function ledgerAgent(ledger: string, maxConcurrency: number, sleepSeconds = 0) {
  const line = (sign: string) =>
    `echo "${sign} $EPOCHREALTIME $AGENTBOARD_AGENT $AGENTBOARD_RUN_ID" >> "${ledger}"`;
  const body = sleepSeconds > 0 ? `; sleep ${sleepSeconds}; ` : '; ';
  return {
    kind: 'command',
    command: '/bin/bash',
    args: ['-c', `${line('+')}${body}${line('-')}`],
    max_concurrency: maxConcurrency,
  };
}

export function createWorkerBoard(
  databaseUrl: string,
  config: { agents: Record<string, unknown>; defaults?: object; board?: object },
): WorkerBoard {
  const root = tempDir('agentboard-workers-');
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  const ledger = path.join(root, 'ledger.log');
  fs.writeFileSync(ledger, '');
  const full = {
    agents: config.agents,
    defaults: { max_attempts: 1, ...config.defaults },
    board: { autostart: true, on_success: 'done', ...config.board },
  };
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(full, null, 2));
  const env = { AGENTBOARD_DATABASE_URL: databaseUrl };
  return {
    home,
    ledger,
    databaseUrl,
    open: () => openApp({ env: { AGENTBOARD_HOME: home, ...env }, cwd: root }),
    async startWorker(args = [], extra = {}) {
      const w = new ServeProcess(home, { args: ['worker', ...args], env: { ...env, ...extra } });
      try {
        // A loaded machine (many agents, a restart storm) may take a while to reconcile.
        await w.waitReady(60_000);
      } catch (e) {
        w.forceKill();
        throw e;
      }
      return w;
    },
  };
}

export interface LedgerEntry {
  sign: '+' | '-';
  t: number;
  agent: string;
  run: string;
}

export function readLedger(file: string): LedgerEntry[] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => {
      const [sign, t, agent, run] = l.split(' ');
      return { sign: sign as '+' | '-', t: Number(t), agent: agent ?? '', run: run ?? '' };
    });
}

/**
 * The most agents alive at once, in total and per agent, from the ledger.
 * At equal timestamps an end counts before a start (the lenient reading).
 */
export function peakConcurrency(entries: LedgerEntry[]): {
  total: number;
  byAgent: Map<string, number>;
} {
  const sorted = [...entries].sort((a, b) => a.t - b.t || (a.sign === '-' ? -1 : 1));
  let total = 0;
  let peak = 0;
  const now = new Map<string, number>();
  const byAgent = new Map<string, number>();
  for (const e of sorted) {
    const d = e.sign === '+' ? 1 : -1;
    total += d;
    const n = (now.get(e.agent) ?? 0) + d;
    now.set(e.agent, n);
    peak = Math.max(peak, total);
    byAgent.set(e.agent, Math.max(byAgent.get(e.agent) ?? 0, n));
  }
  return { total: peak, byAgent };
}

/** Runs that started more than once, or overlapped themselves: none allowed. */
export function startsPerRun(entries: LedgerEntry[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of entries) if (e.sign === '+') m.set(e.run, (m.get(e.run) ?? 0) + 1);
  return m;
}
