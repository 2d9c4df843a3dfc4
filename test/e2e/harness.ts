/**
 * The real agent CLIs from npm (node_modules/.bin), run by agentboard's engine through their
 * adapters against a scripted model server on 127.0.0.1. Not a test file.
 *
 * `openBoard` starts a server for the kind's API, points the CLI at it (a fresh HOME with the
 * CLI's config files), opens a board with one agent and starts the engine; everything is torn down
 * when the test ends.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import type { AgentEvent } from '../../src/agents/events.js';
import { type App, openApp } from '../../src/app/context.js';
import { addTask, type TaskInput } from '../../src/app/tasks.js';
import { configSchema } from '../../src/config/schema.js';
import { type Engine, startEngine } from '../../src/engine/engine.js';
import { readRunEvents } from '../../src/store/run-events.js';
import { getRun, listRuns, type RunRow } from '../../src/store/runs.js';
import { getTask } from '../../src/store/tasks.js';
import { OPENCODE_PROVIDER } from '../support/model-servers/cli-env.js';
import {
  type CapturedRequest,
  CLI_KINDS,
  type CliKind,
  cliEnv,
  type ModelServer,
  type Scenario,
  startModelServer,
  toolResults,
} from '../support/model-servers/index.js';

/**
 * The kinds the matrix runs, in this order. A kind runs once the scripted servers know how to
 * point its CLI (it is in CLI_KINDS). `AB_E2E_KINDS=claude,codex` narrows a local run.
 */
const MATRIX: readonly string[] = ['claude', 'codex', 'gemini', 'opencode', 'copilot', 'qwen'];
export const KINDS: readonly CliKind[] = MATRIX.filter(
  (k): k is CliKind =>
    (CLI_KINDS as readonly string[]).includes(k) &&
    (process.env.AB_E2E_KINDS === undefined || process.env.AB_E2E_KINDS.split(',').includes(k)),
);

/** The permission mode each kind runs with when a scenario needs its tools to run unasked. */
export const ALLOW_ALL: Readonly<Record<string, string>> = {
  claude: 'bypassPermissions',
  codex: 'workspace-write',
  gemini: 'yolo',
  opencode: 'allow',
  copilot: 'allow-all-tools',
  qwen: 'yolo',
};

/** The permission mode under which the scenario's shell command is refused. */
export const RESTRICTED: Readonly<Record<string, string>> = {
  claude: 'default',
  // Codex runs commands inside its sandbox unasked: under read-only a write fails there.
  codex: 'read-only',
  // In headless mode the shell tool is not offered without yolo: the call is refused.
  gemini: 'default',
  opencode: 'default',
  copilot: 'default',
  qwen: 'default',
};

export const MODEL: Readonly<Record<string, string>> = {
  claude: 'claude-sonnet-4-5',
  codex: 'gpt-5.5',
  gemini: 'gemini-2.5-flash',
  // opencode is pointed at the Anthropic wire; copilot and qwen at OpenAI chat completions. The
  // names only matter for the price table (estimated cost, budgets).
  opencode: `${OPENCODE_PROVIDER}/claude-sonnet-4-5`,
  copilot: 'gpt-4.1',
  qwen: 'gpt-4.1',
};

export const API_KEY = 'sk-scripted-test';
const quiet = { info: () => {}, warn: () => {} };
const ACTIVE = ['queued', 'claimed', 'running'];
const SETTLED = ['review', 'done', 'blocked', 'cancelled'];

export interface BoardOptions {
  /** A CLI kind (with a scripted server), or `command` (no server). */
  kind: CliKind | 'command';
  scenario?: Scenario;
  /** Merged over the agent's config (permission_mode, args, command, max_cost_usd, env…). */
  agent?: Record<string, unknown>;
  /** defaults.max_attempts. Default 1. */
  maxAttempts?: number;
  /** The CLI's own retries of failed API calls (cliEnv's maxRetries). Default 0. */
  maxRetries?: number;
  /**
   * Run the real CLI through a wrapper that switches its machine-readable output to plain text
   * (see {@link textModeWrapper}): it exits 0 having printed nothing the adapter knows.
   */
  textMode?: boolean;
}

export interface Board {
  kind: CliKind | 'command';
  /** The agent's name on the board (the kind). */
  agent: string;
  app: App;
  engine: Engine;
  /** null for `command`. */
  server: ModelServer | null;
  root: string;
  workspace: string;
  /** The CLI's binary (the agent's `command`). */
  bin: string | null;
  /** Adds a task for the agent (autostarted) and returns its numeric id. */
  addTask(input?: Partial<TaskInput>): Promise<number>;
  /** Polls until the task is settled (Review/Done/Blocked/Cancelled, no active run). */
  settle(id: number, opts?: SettleOptions): Promise<Settled>;
  /** Polls until the run is no longer queued/claimed/running. */
  waitRun(runId: string, opts?: { timeoutMs?: number }): Promise<RunRow>;
  /** The task's runs, oldest first. */
  runs(id: number): Promise<RunRow[]>;
  events(runId: string): Promise<AgentEvent[]>;
  /** The text of the tool results the CLI sent back to the server. */
  toolResults(): string[];
}

export interface SettleOptions {
  timeoutMs?: number;
  /** Called at each poll with the task's runs (newest first). */
  onPoll?: (runs: RunRow[]) => void;
}

export interface Settled {
  status: string;
  statusReason: string | null;
  runs: RunRow[];
  /** Every distinct non-empty `notice` seen on the task's runs while polling, in order. */
  notices: string[];
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The agent config of a real CLI pointed at `server`: its config files in `root/cli-home`, its
 * environment without the API key (the key goes through agentboard's `token`), the CLI's
 * retries bounded by `maxRetries` (default 0), and the kind's allow-all permission mode.
 */
export function cliAgent(
  kind: CliKind,
  server: ModelServer,
  root: string,
  o: { maxRetries?: number } = {},
): Record<string, unknown> {
  const setup = cliEnv(kind, server.url, path.join(root, 'cli-home'), {
    maxRetries: o.maxRetries ?? 0,
    model: MODEL[kind],
    apiKey: API_KEY,
  });
  // Every variable carrying the key is dropped: it must reach the CLI through `token`.
  const env = Object.fromEntries(Object.entries(setup.env).filter(([, v]) => v !== API_KEY));
  return {
    kind,
    command: setup.bin,
    model: MODEL[kind],
    permission_mode: ALLOW_ALL[kind],
    env,
    token: API_KEY,
    max_concurrency: 1,
    timeout: '120s',
  };
}

export async function openBoard(t: TestContext, o: BoardOptions): Promise<Board> {
  const cleanups: Array<() => Promise<void> | void> = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `ab-e2e-${o.kind}-`));
  cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
  const workspace = path.join(root, 'workspace');
  fs.mkdirSync(workspace);

  let server: ModelServer | null = null;
  let agentConfig: Record<string, unknown>;
  let bin: string | null = null;
  if (o.kind === 'command') {
    agentConfig = { kind: 'command', max_concurrency: 1, timeout: '120s' };
  } else {
    server = await startModelServer(o.kind, o.scenario ?? [], { quiet: true });
    const s = server;
    cleanups.push(() => s.close());
    agentConfig = cliAgent(o.kind, s, root, o);
    bin = String(agentConfig.command);
    if (o.textMode) agentConfig.command = textModeWrapper(bin, root);
  }
  const agent = o.kind;
  const config = configSchema.parse({
    agents: { [agent]: { ...agentConfig, ...o.agent } },
    defaults: {
      max_attempts: o.maxAttempts ?? 1,
      // A retry the engine should not have made shows up quickly.
      backoff: { base: '1s', factor: 1, jitter: 0 },
    },
    board: { workdir: workspace },
  });
  const app = await openApp({ config, env: { AGENTBOARD_HOME: path.join(root, 'board') } });
  const engine = await startEngine(app, { log: quiet, monitorIntervalMs: 200 });
  cleanups.push(async () => {
    await engine.stop();
    await app.store.close();
  });

  const runs = async (id: number) =>
    (await listRuns(app.store.db, { taskId: id, order: 'asc' })) as RunRow[];

  return {
    kind: o.kind,
    agent,
    app,
    engine,
    server,
    root,
    workspace,
    bin,
    async addTask(input = {}) {
      const task = await addTask(app, {
        title: 'Create out.txt',
        body: 'Create out.txt containing hello, then say DONE. Literal text: $(touch pwned) `id`',
        agent,
        ...input,
      });
      return Number(task.id.slice(2));
    },
    async settle(id, so = {}) {
      const deadline = Date.now() + (so.timeoutMs ?? 150_000);
      const notices: string[] = [];
      for (;;) {
        const task = await getTask(app.store.db, id);
        const all = await listRuns(app.store.db, { taskId: id });
        so.onPoll?.(all);
        for (const r of [...all].reverse())
          if (r.notice && notices.at(-1) !== r.notice) notices.push(r.notice);
        const status = task?.status ?? 'missing';
        if (
          (SETTLED.includes(status) || status === 'missing') &&
          !all.some((r) => ACTIVE.includes(r.state))
        )
          return {
            status,
            statusReason: task?.status_reason ?? null,
            runs: [...all].reverse(),
            notices,
          };
        if (Date.now() > deadline)
          throw new Error(
            `task ${id} still ${status} after ${so.timeoutMs ?? 150_000} ms; runs: ${all
              .map((r) => `${r.id} ${r.state}`)
              .join(', ')}`,
          );
        await sleep(100);
      }
    },
    async waitRun(runId, wo = {}) {
      const deadline = Date.now() + (wo.timeoutMs ?? 150_000);
      for (;;) {
        const r = await getRun(app.store.db, runId);
        if (r && !ACTIVE.includes(r.state)) return r;
        if (Date.now() > deadline) throw new Error(`run ${runId} still ${r?.state}`);
        await sleep(100);
      }
    },
    runs,
    async events(runId) {
      return (await readRunEvents(app.store.db, runId, { afterSeq: 0, limit: 100_000 })).map(
        (e) => e.event,
      );
    },
    toolResults() {
      return server && o.kind !== 'command' ? toolResults(o.kind, server.requests) : [];
    },
  };
}

/** One line per event type, for assertion messages. */
export function eventTypes(events: AgentEvent[]): string {
  return JSON.stringify(events.map((e) => e.type));
}

/** A short view of a run for assertion messages. */
export function describeRun(r: RunRow | undefined): string {
  if (!r) return 'no run';
  return `${r.id} ${r.state} exit=${r.exit_code} error_summary=${JSON.stringify(r.error_summary)} stop_reason=${JSON.stringify(r.stop_reason)} notice=${JSON.stringify(r.notice)}`;
}

/** What a summary shown to a person must not contain. */
export function plainProblems(s: string): string[] {
  const problems: string[] = [];
  // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for escape codes
  if (/\u001b\[|\u001b\]|\u009b/.test(s)) problems.push('ANSI escapes');
  if (/^\s*at .+(:\d+:\d+\)?|\(native\))$/m.test(s) || /\bat [\w.<>]+ \(.*:\d+:\d+\)/.test(s))
    problems.push('stack frames');
  if (/[{}]/.test(s)) problems.push('raw JSON braces');
  if (/\n/.test(s.trim())) problems.push('more than one line');
  return problems;
}

/** The requests the server received from `from` on (e.g. since a run ended). */
export function requestsSince(server: ModelServer, from: number): CapturedRequest[] {
  return server.requests.slice(from);
}

/**
 * A wrapper `command` that runs the real CLI with its machine-readable output switched to plain
 * text (`stream-json` → `text`, `--json` dropped, `--format json` → `--format default`,
 * `--output-format json` → `text`), so it exits 0 having printed something the adapter does not know.
 */
export function textModeWrapper(bin: string, dir: string): string {
  const script = path.join(dir, 'text-mode.sh');
  fs.writeFileSync(
    script,
    `#!/bin/bash
args=()
prev=""
for a in "$@"; do
  case "$a" in
    --json) ;;
    stream-json) args+=("text") ;;
    json)
      if [ "$prev" = "--format" ]; then args+=("default"); else args+=("text"); fi ;;
    *) args+=("$a") ;;
  esac
  prev="$a"
done
exec ${JSON.stringify(bin)} "\${args[@]}"
`,
    { mode: 0o755 },
  );
  return script;
}
