/**
 * Shared by the workspace tests: a real git repository (the "user's
 * checkout") with a board inside it, and the engine running in-process.
 * Not a test file (node --test runs it as an empty one).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type App, openApp } from '../../src/app/context.js';
import type { EngineLogger } from '../../src/engine/context.js';
import { type Engine, startEngine } from '../../src/engine/engine.js';
import { isSameProcess, listProcessGroup } from '../../src/runner/proc.js';
import { RUN_MARKER_ENV } from '../../src/runner/run-tree.js';
import { killGroupMembers, signalGroup } from '../../src/runner/signals.js';
import { listRuns } from '../../src/store/runs.js';
import { tempDir } from '../support/tmp.js';

/** git as the user runs it in their own checkout (with an identity of their own). */
export function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=User', '-c', 'user.email=user@example.com', ...args],
    {
      cwd,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  ).trim();
}

/** Ten numbered lines: two tasks may edit lines far apart and still merge cleanly. */
export const SHARED_FILE = `${Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).join('\n')}\n`;

/** A fresh repository on `main` with one commit (shared.txt, .gitignore for the board). */
export function createRepo(): string {
  const repo = tempDir('agentboard-ws-');
  git(repo, 'init', '--quiet', '--initial-branch=main');
  fs.writeFileSync(path.join(repo, 'shared.txt'), SHARED_FILE);
  fs.writeFileSync(path.join(repo, '.gitignore'), '.agentboard/\n');
  git(repo, 'add', '--all');
  git(repo, 'commit', '--quiet', '-m', 'initial');
  return repo;
}

export interface WsBoard {
  repo: string;
  home: string;
  app: App;
  engine: Engine | null;
  log: string[];
  startEngine(): Promise<void>;
  stopEngine(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A board at `<repo>/.agentboard` whose config.yaml (JSON, which is YAML)
 * is `config`: the CLI sees the same board as the in-process engine.
 */
export async function openBoard(
  repo: string,
  config: Record<string, unknown>,
  o: { engine?: boolean } = {},
): Promise<WsBoard> {
  const home = path.join(repo, '.agentboard');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config, null, 2));
  const app = await openApp({ env: { AGENTBOARD_HOME: home }, cwd: repo });
  const log: string[] = [];
  const quiet: EngineLogger = { info: (m) => log.push(m), warn: (m) => log.push(`warning: ${m}`) };
  const board: WsBoard = {
    repo,
    home,
    app,
    engine: null,
    log,
    async startEngine() {
      board.engine = await startEngine(app, {
        monitorIntervalMs: 100,
        reconcileIntervalMs: 200,
        log: quiet,
      });
    },
    async stopEngine() {
      await board.engine?.stop();
      board.engine = null;
    },
    async close() {
      await board.stopEngine();
      await killLeftovers(app);
      await app.store.close();
    },
  };
  if (o.engine !== false) await board.startEngine();
  return board;
}

/** Tests must not leave agents behind (engine.stop() leaves them for the next start). */
async function killLeftovers(app: App): Promise<void> {
  for (const r of await listRuns(app.store.db, {})) {
    if (r.pgid === null || r.pgid <= 1) continue;
    try {
      if (r.pid !== null && r.proc_start_time !== null && isSameProcess(r.pid, r.proc_start_time))
        signalGroup(r.pgid, 'SIGKILL');
      if (listProcessGroup(r.pgid).length > 0)
        killGroupMembers(r.pgid, { key: RUN_MARKER_ENV, value: r.id });
    } catch {
      // already gone
    }
  }
}

/** A `command` agent running `/bin/sh -c script` in its workspace. */
export function shAgent(script: string, extra: Record<string, unknown> = {}) {
  return { kind: 'command', command: '/bin/sh', args: ['-c', script], ...extra };
}

/** A board config with one agent `bot` and worktree workspaces. */
export function wsConfig(
  script: string,
  o: {
    board?: Record<string, unknown>;
    defaults?: Record<string, unknown>;
    env?: Record<string, string>;
    agent?: Record<string, unknown>;
  } = {},
): Record<string, unknown> {
  return {
    agents: { bot: shAgent(script, { max_concurrency: 4, env: o.env ?? {}, ...o.agent }) },
    defaults: {
      agent: 'bot',
      max_attempts: 1,
      backoff: { base: '100ms', factor: 2, max: '1s', jitter: 0 },
      ...o.defaults,
    },
    board: { autostart: true, on_success: 'review', workspace: 'worktree', ...o.board },
  };
}

/** The state of the user's checkout that must never change behind their back. */
export function checkoutState(repo: string): string {
  return JSON.stringify({
    head: git(repo, 'rev-parse', 'HEAD'),
    branch: git(repo, 'symbolic-ref', '--short', 'HEAD'),
    status: git(repo, 'status', '--porcelain'),
    shared: fs.readFileSync(path.join(repo, 'shared.txt'), 'utf8'),
  });
}
