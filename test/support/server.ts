/**
 * `agentboard serve` and the CLI as real OS processes, for tests that crash,
 * stop and restart the engine. Not a test file.
 *
 * The CLI entry is taken from the same build as the test (dist/src/cli/main.js
 * next to dist/test/), which is what bin/agentboard.js loads.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { readApiToken } from '../../src/app/api-token.js';

export const CLI_MAIN = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

const READY = /^agentboard engine (\S+) on /m;

/** The environment a board process gets: ours, pointed at `home`, never at PostgreSQL. */
export function boardEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AGENTBOARD_HOME: home, ...extra };
  for (const k of [
    'AGENTBOARD_DATABASE_URL',
    'AGENTBOARD_URL',
    'AGENTBOARD_RUN_ID',
    'AGENTBOARD_TASK_ID',
    'AGENTBOARD_PARENT_RUN_ID',
    'NODE_TEST_CONTEXT',
    'NO_COLOR',
  ]) {
    if (!(k in extra)) delete env[k];
  }
  return env;
}

/**
 * The command line: `serve` on a free port unless `args` names another
 * command (`worker …`); args that are only flags go to `serve`.
 */
function commandLine(args: string[] = []): string[] {
  const [first, ...rest] = args;
  if (first !== undefined && !first.startsWith('-') && first !== 'serve') return args;
  const flags = first === 'serve' ? rest : args;
  return ['serve', ...(flags.includes('--port') ? [] : ['--port', '0']), ...flags];
}

/** Every server this test process spawned, so none outlives it. */
const spawned = new Set<ServeProcess>();
process.on('exit', () => {
  for (const s of spawned) s.forceKill();
});

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One `agentboard serve` process (or, with `args`, another engine command such as `worker`). */
export class ServeProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  stdout = '';
  stderr = '';
  exitStatus: ExitStatus | null = null;
  readonly exited: Promise<ExitStatus>;
  readonly startedAt = Date.now();

  constructor(
    readonly home: string,
    opts: {
      env?: Record<string, string>;
      logFile?: string;
      /** `serve` flags, or a whole command line such as `worker --labels a`. */
      args?: string[];
    } = {},
  ) {
    this.child = spawn(process.execPath, [CLI_MAIN, ...commandLine(opts.args)], {
      env: boardEnv(home, opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    if (this.child.pid === undefined) throw new Error('could not spawn agentboard serve');
    this.pid = this.child.pid;
    spawned.add(this);
    const log = opts.logFile;
    const tee = (which: 'stdout' | 'stderr') => (b: Buffer) => {
      const text = b.toString('utf8');
      this[which] += text;
      if (log) fs.appendFileSync(log, text);
    };
    this.child.stdout?.on('data', tee('stdout'));
    this.child.stderr?.on('data', tee('stderr'));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitStatus = { code, signal };
        spawned.delete(this);
        resolve(this.exitStatus);
      });
    });
  }

  /** The worker id it printed on its "agentboard engine" line, once ready. */
  get workerId(): string | undefined {
    return READY.exec(this.stdout)?.[1];
  }

  /** The API's base URL it printed once ready, e.g. http://127.0.0.1:41234 */
  get url(): string | undefined {
    return /^board: (http:\/\/\S+?)\/?$/m.exec(this.stdout)?.[1];
  }

  /** The one-time login URL it printed once ready (each works once). */
  get loginUrl(): string | undefined {
    return /^log in \(.*?\): (http:\/\/\S+)$/m.exec(this.stdout)?.[1];
  }

  /** The owner's API token, as the CLI reads it: from the home (the server made it at start). */
  token(): string {
    const token = readApiToken(this.home);
    if (!token) throw new Error(`no API token in ${this.home}\n${this.output()}`);
    return token;
  }

  /** The headers that authenticate as the board's owner. */
  authHeaders(): Record<string, string> {
    return { authorization: `Bearer ${this.token()}` };
  }

  /** fetch() on this server's API with the owner's token: `path` is from the root, e.g. /api/v1/tasks. */
  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    if (!this.url) throw new Error(`the server has not printed its URL yet\n${this.output()}`);
    const headers = new Headers(init.headers);
    if (!headers.has('authorization')) headers.set('authorization', `Bearer ${this.token()}`);
    return fetch(`${this.url}${path}`, { ...init, headers });
  }

  get ready(): boolean {
    return this.workerId !== undefined;
  }

  get alive(): boolean {
    return this.exitStatus === null;
  }

  /** Resolves once the engine has reconciled and printed its ready line. */
  async waitReady(timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ready) {
      if (!this.alive) {
        throw new Error(
          `agentboard serve exited before it was ready (${JSON.stringify(this.exitStatus)})\n${this.output()}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(`agentboard serve not ready after ${timeoutMs} ms\n${this.output()}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Sends `signal` and waits for the process to exit. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000): Promise<ExitStatus> {
    if (this.alive) this.child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `agentboard serve did not exit ${timeoutMs} ms after ${signal}\n${this.output().slice(-3000)}`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Graceful shutdown (SIGTERM): agents are left running for the next start. */
  stop(timeoutMs?: number): Promise<ExitStatus> {
    return this.kill('SIGTERM', timeoutMs);
  }

  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal);
  }

  forceKill(): void {
    if (!this.alive) return;
    try {
      process.kill(this.pid, 'SIGCONT');
      process.kill(this.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /** Resident memory of the server process, in bytes (null once it has exited). */
  rssBytes(): number | null {
    return rssBytes(this.pid);
  }

  output(): string {
    return `--- serve ${this.pid} stdout\n${this.stdout}--- serve ${this.pid} stderr\n${this.stderr}`;
  }
}

/** Spawns `agentboard serve` on `home` and waits until its engine is ready. */
export async function startServe(
  home: string,
  opts: {
    env?: Record<string, string>;
    logFile?: string;
    timeoutMs?: number;
    args?: string[];
  } = {},
): Promise<ServeProcess> {
  const s = new ServeProcess(home, opts);
  try {
    await s.waitReady(opts.timeoutMs);
  } catch (e) {
    s.forceKill();
    throw e;
  }
  return s;
}

export function rssBytes(pid: number): number | null {
  try {
    const m = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Starts an `agentboard <args>` process (stdout/stderr piped). */
export function spawnCli(
  home: string,
  args: string[],
  opts: { env?: Record<string, string> } = {},
): ChildProcess {
  return spawn(process.execPath, [CLI_MAIN, ...args], {
    env: boardEnv(home, opts.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs `agentboard <args>` on `home` to completion. */
export function runCli(
  home: string,
  args: string[],
  opts: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {},
): Promise<CliResult> {
  return execCli(args, {
    env: boardEnv(home, opts.env),
    ...(opts.input !== undefined ? { input: opts.input } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
  });
}

/**
 * Runs the CLI with exactly this environment, working directory and standard
 * input, to completion (killed after `timeoutMs`). `entry` is the script
 * node runs: the build's main.js, or bin/agentboard.js to test the bin.
 */
export async function execCli(
  args: string[],
  o: { env: NodeJS.ProcessEnv; cwd?: string; input?: string; timeoutMs?: number; entry?: string },
): Promise<CliResult> {
  const child = spawn(process.execPath, [o.entry ?? CLI_MAIN, ...args], {
    env: o.env,
    ...(o.cwd ? { cwd: o.cwd } : {}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (c: string) => {
    stdout += c;
  });
  child.stderr?.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  child.stdin?.on('error', () => {});
  child.stdin?.end(o.input ?? '');
  const timer = setTimeout(() => child.kill('SIGKILL'), o.timeoutMs ?? 60_000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  return { code, stdout, stderr };
}
