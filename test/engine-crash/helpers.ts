/** Shared by the engine crash tests. Not a test file (node --test runs it as an empty one). */
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type App, openApp } from '../../src/app/context.js';
import { addTask } from '../../src/app/tasks.js';
import { listRuns, type RunRow } from '../../src/store/runs.js';
import {
  type AgentPlan,
  ENABLE_ENV,
  LEDGER_ENV,
  planBody,
  STATE_ENV,
} from '../fixtures/crash-agent-lib.js';
import { tempDir } from '../support/tmp.js';

export const AGENT_SCRIPT = fileURLToPath(new URL('../fixtures/crash-agent.js', import.meta.url));

export interface Board {
  home: string;
  ledger: string;
  stateDir: string;
  /** The serve logs of every start, appended. */
  serveLog: string;
  open(): Promise<App>;
}

export interface BoardOptions {
  agent?: Record<string, unknown>;
  defaults?: Record<string, unknown>;
  board?: Record<string, unknown>;
}

/**
 * A fresh board in a temp dir whose one agent, `bot`, is the scripted crash
 * agent. config.yaml is written as JSON (which is YAML).
 */
export function createBoard(o: BoardOptions = {}): Board {
  const root = tempDir('agentboard-crash-');
  const home = path.join(root, 'home');
  const stateDir = path.join(root, 'state');
  fs.mkdirSync(home);
  fs.mkdirSync(stateDir);
  const ledger = path.join(root, 'ledger.log');
  const config = {
    agents: {
      bot: {
        kind: 'command',
        command: process.execPath,
        args: [AGENT_SCRIPT],
        max_concurrency: 8,
        env: { [ENABLE_ENV]: '1', [LEDGER_ENV]: ledger, [STATE_ENV]: stateDir },
        ...o.agent,
      },
    },
    defaults: {
      agent: 'bot',
      max_attempts: 1,
      lease: '3s',
      stop_grace: '1s',
      backoff: { base: '200ms', factor: 2, max: '1s', jitter: 0.5 },
      ...o.defaults,
    },
    board: { autostart: true, max_concurrency: 8, on_success: 'review', ...o.board },
  };
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config, null, 2));
  return {
    home,
    ledger,
    stateDir,
    serveLog: path.join(root, 'serve.log'),
    open: () => openApp({ env: { AGENTBOARD_HOME: home }, cwd: root }),
  };
}

/** Adds a task the scripted agent carries out; autostart queues its run. Returns the task number. */
export async function addAgentTask(
  app: App,
  title: string,
  plan: AgentPlan,
  opts: { maxAttempts?: number } = {},
): Promise<number> {
  const t = await addTask(app, {
    title,
    body: planBody(plan),
    agent: 'bot',
    ...(opts.maxAttempts !== undefined ? { maxAttempts: opts.maxAttempts } : {}),
  });
  return Number(t.id.slice(2));
}

export async function runsOfTask(app: App, taskId: number): Promise<RunRow[]> {
  return listRuns(app.store.db, { taskId, order: 'asc' });
}

export async function waitFor<T>(
  what: string,
  probe: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgrp: number;
  state: string;
  argv: string[];
  runId: string | undefined;
}

function readProc(pid: number): { state: string; ppid: number; pgrp: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: f[0] ?? '', ppid: Number(f[1]), pgrp: Number(f[2]) };
  } catch {
    return null;
  }
}

/** Alive and not a zombie. */
export function isAlive(pid: number): boolean {
  const s = readProc(pid);
  return s !== null && s.state !== 'Z' && s.state !== 'X';
}

/**
 * Every live (non-zombie) process started for a run of this board: shims,
 * agents and their grandchildren all carry AGENTBOARD_HOME=home and
 * AGENTBOARD_RUN_ID in their environment; the server and CLI do not.
 */
export function runProcesses(home: string): ProcInfo[] {
  const out: ProcInfo[] = [];
  const wantHome = `AGENTBOARD_HOME=${home}`;
  for (const name of fs.readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
      if (!env.includes(wantHome)) continue;
      const run = env.find((e) => e.startsWith('AGENTBOARD_RUN_ID='));
      if (run === undefined) continue;
      const s = readProc(pid);
      if (!s || s.state === 'Z' || s.state === 'X') continue;
      const argv = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
      out.push({ pid, ...s, argv, runId: run.slice('AGENTBOARD_RUN_ID='.length) });
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Test cleanup: SIGKILL whatever a board's runs left (by pid). Returns how many. */
export function killRunProcesses(home: string): number {
  let n = 0;
  for (const p of runProcesses(home)) {
    try {
      process.kill(p.pid, 'SIGKILL');
      n++;
    } catch {
      // gone
    }
  }
  return n;
}

export function describeProcs(ps: ProcInfo[]): string {
  return ps.map((p) => `${p.pid} (run ${p.runId}, pgrp ${p.pgrp}): ${p.argv.join(' ')}`).join('\n');
}

export function mb(bytes: number): string {
  return `${(bytes / 1048576).toFixed(1)} MB`;
}
