/**
 * `validate --probe`: one minimal request through an agent's own
 * configuration (its command, args, env, model and key), to learn whether the
 * provider accepts the key before a task finds out. No DB access: the agent's
 * CLI is spawned in a temporary directory and its output read as a run's is.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import { agentCommand } from '../config/schema.js';
import { plainLine } from '../domain/plain-text.js';
import { resolveCommand } from '../runner/resolve-command.js';
import type { AgentAdapter } from './adapter.js';
import type { AgentEvent } from './events.js';
import { classify, type RunOutput, retryVerdict, sentence, type Verdict } from './probe-verdict.js';
import { adapterFor, readToken } from './registry.js';

export const PROBE_PROMPT = 'Reply with the word OK.';
export const PROBE_TIMEOUT_MS = 60_000;
const STDERR_TAIL = 8192;

export type ProbeStatus = 'ok' | 'rejected' | 'expired' | 'unreachable' | 'error';

export interface ProbeResult {
  name: string;
  kind: AgentConfig['kind'];
  status: ProbeStatus;
  /** One plain sentence: what happened, and what to do when it is not ok. */
  reason: string;
  /** The provider's or CLI's own words, when it said something (one line). */
  detail: string | null;
  exitCode: number | null;
  durationMs: number;
}

export interface ProbeOptions {
  /** The environment agentboard runs in (the agent's `env` is laid over it). */
  env: NodeJS.ProcessEnv;
  /** Where `token_file` and a relative `command` resolve. */
  home: string;
  cwd: string;
  timeoutMs?: number;
  prompt?: string;
}

/**
 * What a probe adds to the agent's environment: no retries where the CLI has
 * a switch for it, so a rejected or expired key is answered with the
 * provider's own words at once, not after minutes of backoff.
 */
const PROBE_ENV: Partial<Record<AgentConfig['kind'], Record<string, string>>> = {
  claude: { CLAUDE_CODE_MAX_RETRIES: '0' },
};

/** Sends one request through `agent` and says whether the provider accepted it. */
export async function probeAgent(
  name: string,
  agent: AgentConfig,
  o: ProbeOptions,
): Promise<ProbeResult> {
  const started = Date.now();
  const done = (
    status: ProbeStatus,
    reason: string,
    detail: string | null = null,
    exitCode: number | null = null,
  ): ProbeResult => ({
    name,
    kind: agent.kind,
    status,
    reason,
    detail,
    exitCode,
    durationMs: Date.now() - started,
  });
  const timeoutMs = o.timeoutMs ?? PROBE_TIMEOUT_MS;
  const label = agent.kind === 'command' || agent.kind === name ? name : `${name} (${agent.kind})`;

  // The probe runs in a scratch folder of its own: its invocation is built for that folder.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'agentboard-probe-'));
  try {
    return await probeIn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }

  async function probeIn(dir: string): Promise<ProbeResult> {
    let adapter: AgentAdapter;
    let argv: string[];
    let env: Record<string, string>;
    let stdinPrompt: boolean;
    const prompt = o.prompt ?? PROBE_PROMPT;
    try {
      adapter = adapterFor(name, agent);
      const inv = adapter.buildInvocation({
        name,
        // A probe asks for no tool: board approvals (an MCP server outside any run) are left out.
        agent: { ...agent, approvals: 'agent' },
        prompt,
        resumeSessionId: null,
        token: readToken(name, agent, o.home),
        isRoot: process.getuid?.() === 0,
        env: o.env,
        maxCostUsd: null,
        cwd: dir,
        boardHome: o.home,
        boardWritesAllowed: agent.allow_board_writes,
      });
      env = { ...definedOnly(o.env), ...agent.env, ...PROBE_ENV[agent.kind], ...inv.env };
      argv = inv.argv;
      stdinPrompt = inv.stdin === 'prompt';
    } catch (e) {
      return done(
        'error',
        `${label} cannot be started as configured: ${plainLine((e as Error).message)}`,
      );
    }
    const command = argv[0] ?? agentCommand(agent);
    const resolved = resolveCommand(command, env.PATH ?? '', o.cwd);
    if (!resolved) {
      return done(
        'error',
        `\`${command}\` is not installed or not on PATH: install it or set agents.${name}.command`,
      );
    }

    const out = await runOnce([resolved, ...argv.slice(1)], env, dir, {
      stdin: stdinPrompt ? prompt : null,
      timeoutMs,
      adapter,
    });
    const v = classify(adapter, out);
    return done(v.status, sentence(label, v, timeoutMs), v.detail, out.code);
  }
}

/** Probes several agents at once (each is one process and one request). */
export function probeAgents(
  agents: [string, AgentConfig][],
  o: ProbeOptions,
): Promise<ProbeResult[]> {
  return Promise.all(agents.map(([name, agent]) => probeAgent(name, agent, o)));
}

/**
 * Runs the CLI once: argv (never a shell), its own process group, stdout
 * parsed line by line. A retry notice that already says 401/403 or "cannot
 * connect" ends it early, so a CLI that would retry for minutes answers now.
 */
function runOnce(
  argv: string[],
  env: Record<string, string>,
  cwd: string,
  o: { stdin: string | null; timeoutMs: number; adapter: AgentAdapter },
): Promise<RunOutput> {
  return new Promise((resolve) => {
    const [file, ...args] = argv as [string, ...string[]];
    const events: AgentEvent[] = [];
    const parser = o.adapter.parser();
    const errParser = o.adapter.stderrParser?.();
    let stderrTail = '';
    let early: Verdict | null = null;
    let timedOut = false;
    let spawnError: string | null = null;
    let settled = false;
    const child = spawn(file, args, {
      cwd,
      env,
      stdio: [o.stdin === null ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      detached: true,
      windowsHide: true,
    });
    const kill = () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, o.timeoutMs);
    const take = (evs: AgentEvent[], fromStderr: boolean) => {
      for (const e of evs) {
        if (fromStderr && e.type !== 'retry' && e.type !== 'error') continue;
        events.push(e);
        if (!early && e.type === 'retry') {
          const v = retryVerdict(e);
          if (v) {
            early = v;
            kill();
          }
        }
      }
    };
    const lines = (onLine: (l: string) => void) => {
      let buf = '';
      return {
        data(chunk: Buffer) {
          buf += chunk.toString('utf8');
          let i = buf.indexOf('\n');
          while (i >= 0) {
            onLine(buf.slice(0, i).replace(/\r$/, ''));
            buf = buf.slice(i + 1);
            i = buf.indexOf('\n');
          }
          if (buf.length > 1 << 20) {
            onLine(buf);
            buf = '';
          }
        },
        end() {
          if (buf) onLine(buf);
          buf = '';
        },
      };
    };
    const outLines = lines((l) => take(parser.line(l), false));
    const errLines = lines((l) => {
      if (errParser) take(errParser.line(l), true);
    });
    child.stdout?.on('data', (c: Buffer) => outLines.data(c));
    child.stderr?.on('data', (c: Buffer) => {
      stderrTail = (stderrTail + c.toString('utf8')).slice(-STDERR_TAIL);
      errLines.data(c);
    });
    if (child.stdin) {
      child.stdin.on('error', () => {});
      child.stdin.end(o.stdin ?? '');
    }
    const finish = (code: number | null, signal: NodeJS.Signals | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outLines.end();
      errLines.end();
      take(parser.end(), false);
      if (errParser) take(errParser.end(), true);
      resolve({ events, code, signal, stderrTail, timedOut, spawnError, early });
    };
    child.on('error', (e) => {
      spawnError = plainLine(e.message);
      finish(null, null);
    });
    child.on('close', (code, signal) => finish(code, signal));
  });
}

function definedOnly(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined) out[k] = v;
  return out;
}
