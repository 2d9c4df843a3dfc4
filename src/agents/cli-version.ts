/**
 * Which version of an agent CLI is installed, and whether its adapter was
 * tested with it. A probe runs the CLI's `--version` once per binary: the
 * answer is cached per (resolved path, mtime), so launches pay for it once,
 * and an upgrade in place (a new mtime) is probed again.
 */
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import type { AgentConfig } from '../config/schema.js';
import { agentCommand } from '../config/schema.js';
import { resolveCommand } from '../runner/resolve-command.js';
import type { AgentAdapter, VersionRange } from './adapter.js';
import { adapterFor } from './registry.js';

export type VersionStatus = 'tested' | 'older' | 'newer' | 'unknown';

/** How long a `--version` may take before the answer is "unknown". */
export const VERSION_TIMEOUT_MS = 15_000;
const MAX_ENTRIES = 256;

interface Entry {
  mtimeMs: number;
  size: number;
  value: Promise<string | null>;
}

/** Resolved path + version args -> the probe of that file as it was at mtimeMs. */
const cache = new Map<string, Entry>();

/**
 * The version of the CLI `agent` runs, e.g. "2.1.3"; null for `kind: command`,
 * when the command is not installed, or when the CLI prints no version.
 * `env` is the environment the agent starts in (the agent's own `env` is laid
 * over it, as the launcher does). Concurrent callers for one binary share a probe.
 */
export async function cliVersion(
  agentName: string,
  agent: AgentConfig,
  env: NodeJS.ProcessEnv,
  cwd: string,
  opts: { timeoutMs?: number } = {},
): Promise<string | null> {
  if (agent.kind === 'command') return null;
  const adapter = adapterFor(agentName, agent);
  const merged: NodeJS.ProcessEnv = { ...env, ...agent.env };
  const file = resolveCommand(agentCommand(agent), merged.PATH ?? '', cwd);
  if (!file) return null;
  return versionOfFile(file, adapter.versionArgs, merged, opts.timeoutMs ?? VERSION_TIMEOUT_MS);
}

/** The cached version of one executable file (see cliVersion). */
export function versionOfFile(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number = VERSION_TIMEOUT_MS,
): Promise<string | null> {
  let st: { mtimeMs: number; size: number };
  try {
    st = statSync(file);
  } catch {
    return Promise.resolve(null);
  }
  const key = `${file}\0${args.join('\0')}`;
  const hit = cache.get(key);
  if (hit && hit.mtimeMs === st.mtimeMs && hit.size === st.size) return hit.value;
  const value = detectVersion(file, args, env, timeoutMs).then((r) => {
    // A probe that timed out or could not start says nothing about the file: try again next time.
    if (!r.settled && cache.get(key)?.value === value) cache.delete(key);
    return r.version;
  });
  if (cache.size >= MAX_ENTRIES && !cache.has(key)) {
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(key, { mtimeMs: st.mtimeMs, size: st.size, value });
  return value;
}

/** Forgets every cached probe (tests). */
export function clearVersionCache(): void {
  cache.clear();
}

/**
 * Runs `file args` (argv, no shell) and reads the first x.y.z it prints
 * (stdout or stderr). `settled` is false when the process timed out or could
 * not be started.
 */
export function detectVersion(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number = VERSION_TIMEOUT_MS,
): Promise<{ version: string | null; settled: boolean }> {
  return new Promise((resolve) => {
    let out = '';
    let done = false;
    let timedOut = false;
    const finish = (settled: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve({ version: parseVersion(out), settled });
    };
    // Its own process group: on a timeout the whole tree goes, and with it the pipes.
    const child = spawn(file, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
      windowsHide: true,
    });
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    }, timeoutMs);
    const take = (b: Buffer) => {
      if (out.length < 1 << 16) out += b.toString('utf8');
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
    child.on('error', () => finish(false));
    child.on('close', () => finish(!timedOut));
  });
}

/** The first version number in a CLI's `--version` output, e.g. "claude 2.1.3 (Claude Code)" -> "2.1.3". */
export function parseVersion(text: string): string | null {
  const m = /(?<![\d.])(\d+\.\d+(?:\.\d+)*(?:-[0-9A-Za-z.-]+)?)/.exec(text);
  return m?.[1] ?? null;
}

/**
 * Compares two versions numerically, part by part ("0.10.0" > "0.9.0",
 * "2.1.330" > "2.1.40"); missing parts count as 0. A pre-release ("1.0.0-beta")
 * sorts before its release. Returns -1, 0 or 1.
 */
export function compareVersions(a: string, b: string): number {
  const [coreA = '', preA] = splitVersion(a);
  const [coreB = '', preB] = splitVersion(b);
  const pa = coreA.split('.').map(toInt);
  const pb = coreB.split('.').map(toInt);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  if (preA === undefined || preB === undefined) {
    if (preA === preB) return 0;
    return preA === undefined ? 1 : -1;
  }
  const xa = preA.split('.');
  const xb = preB.split('.');
  for (let i = 0; i < Math.max(xa.length, xb.length); i++) {
    const s = xa[i];
    const t = xb[i];
    if (s === undefined) return -1;
    if (t === undefined) return 1;
    const ns = /^\d+$/.test(s);
    const nt = /^\d+$/.test(t);
    if (ns && nt) {
      const d = toInt(s) - toInt(t);
      if (d !== 0) return Math.sign(d);
    } else if (ns !== nt) return ns ? -1 : 1;
    else if (s !== t) return s < t ? -1 : 1;
  }
  return 0;
}

function splitVersion(v: string): [string, string | undefined] {
  const s = v.trim().replace(/^v/i, '').split('+')[0] ?? '';
  const i = s.indexOf('-');
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

function toInt(x: string): number {
  const n = Number.parseInt(x, 10);
  return Number.isFinite(n) ? n : 0;
}

/** Where `version` falls against a tested range (both ends included). */
export function versionStatus(
  version: string | null | undefined,
  range: VersionRange | null | undefined,
): VersionStatus {
  if (!version || !range || !parseVersion(version)) return 'unknown';
  if (compareVersions(version, range.min) < 0) return 'older';
  if (compareVersions(version, range.max) > 0) return 'newer';
  return 'tested';
}

/** The tested range of an agent: its `tested_versions` from config, else its adapter's. */
export function testedRange(adapter: AgentAdapter, agent: AgentConfig): VersionRange | null {
  const o = agent.tested_versions;
  if (o) return { min: o.min, max: o.max };
  return adapter.testedVersions;
}

/**
 * One sentence about a version outside the tested range, naming the range and
 * how to override it; null when it is tested or nothing is known.
 */
export function untestedVersionWarning(
  name: string,
  version: string | null,
  range: VersionRange | null,
): string | null {
  const status = versionStatus(version, range);
  if (!range || (status !== 'older' && status !== 'newer')) return null;
  const span = `${range.min} to ${range.max}`;
  const advice =
    status === 'older'
      ? 'upgrade it'
      : 'it may print output this adapter does not recognise; pin a tested version';
  return `agent ${name}: version ${version} is ${status} than the tested range ${span}: ${advice}, or set agents.${name}.tested_versions: { min, max } to accept it`;
}
