import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import { agentCommand } from '../config/schema.js';
import { resolveCommand } from '../runner/resolve-command.js';
import {
  cliVersion,
  testedRange,
  untestedVersionWarning,
  type VersionStatus,
  versionStatus,
} from './cli-version.js';
import { adapterFor, readToken } from './registry.js';

export interface AgentStatus {
  name: string;
  kind: AgentConfig['kind'];
  command: string;
  path: string | null;
  version: string | null;
  /** The tested range (the adapter's, or agents.<name>.tested_versions). */
  minVersion: string | null;
  maxVersion: string | null;
  versionStatus: VersionStatus;
  /** false when the version is outside the tested range; null when unknown. */
  versionOk: boolean | null;
  credentials: { ok: boolean; source: string };
  problems: string[];
  warnings: string[];
  /** Whether a run of this agent can start at all. */
  canRun: boolean;
}

/** Login files the CLIs write themselves, as an alternative to an API key. */
const LOGIN_FILES: Partial<Record<AgentConfig['kind'], string[]>> = {
  claude: ['.claude/.credentials.json'],
  codex: ['.codex/auth.json'],
  gemini: ['.gemini/oauth_creds.json'],
  cursor: ['.cursor/cli-config.json'],
  opencode: ['.local/share/opencode/auth.json'],
  amp: ['.config/amp/secrets.json', '.local/share/amp/secrets.json'],
};

export async function checkAgent(
  name: string,
  agent: AgentConfig,
  o: { env: NodeJS.ProcessEnv; home: string; cwd: string },
): Promise<AgentStatus> {
  const adapter = adapterFor(name, agent);
  const command = agentCommand(agent);
  const problems: string[] = [];
  const warnings: string[] = [];
  const found = resolveCommand(command, agent.env.PATH ?? o.env.PATH ?? '', o.cwd);
  if (!found)
    problems.push(
      `\`${command}\` is not installed or not on PATH: install it or set agents.${name}.command`,
    );
  let version: string | null = null;
  if (found && agent.kind !== 'command') {
    version = await cliVersion(name, agent, o.env, o.cwd);
    if (!version) warnings.push(`could not read the version of ${command}`);
  }
  const range = testedRange(adapter, agent);
  const status = versionStatus(version, range);
  const versionOk = status === 'unknown' ? null : status === 'tested';
  const untested = untestedVersionWarning(name, version, range);
  if (untested) warnings.push(untested.replace(`agent ${name}: `, ''));
  const credentials = checkCredentials(name, agent, adapter.tokenEnv, o);
  if (!credentials.ok) {
    problems.push(
      credentials.reason ??
        `no credentials: set agents.${name}.token or token_file, export ${adapter.tokenEnv}, or log in with the CLI`,
    );
  }
  if (agent.kind === 'gemini') {
    const p = geminiAuthProblem(agent, o);
    if (p) problems.push(p);
  }
  return {
    name,
    kind: agent.kind,
    command,
    path: found,
    version,
    minVersion: range?.min ?? null,
    maxVersion: range?.max ?? null,
    versionStatus: status,
    versionOk,
    credentials,
    problems,
    warnings,
    canRun: problems.length === 0,
  };
}

/** Where the agent's key comes from; `reason` says why none is usable, in one sentence. */
export function checkCredentials(
  name: string,
  agent: AgentConfig,
  tokenEnv: string,
  o: { env: NodeJS.ProcessEnv; home: string },
): { ok: boolean; source: string; reason?: string } {
  if (agent.kind === 'command') return { ok: true, source: 'not needed' };
  if (agent.token) return { ok: true, source: 'token (config)' };
  if (agent.token_file) {
    const file = path.resolve(o.home, agent.token_file);
    try {
      if (readToken(name, agent, o.home))
        return { ok: true, source: `token_file ${agent.token_file}` };
      return {
        ok: false,
        source: `token_file ${agent.token_file} is empty`,
        reason: `agents.${name}.token_file ${file} is empty: put the API key in it`,
      };
    } catch (e) {
      const code = (e as { cause?: NodeJS.ErrnoException }).cause?.code;
      const why = tokenFileError(e as Error, code);
      return {
        ok: false,
        source: `token_file ${agent.token_file} is unreadable`,
        reason: `agents.${name}.token_file ${file} cannot be used: ${why}`,
      };
    }
  }
  if (agent.env[tokenEnv] || o.env[tokenEnv]) return { ok: true, source: `env ${tokenEnv}` };
  const userHome = agent.env.HOME ?? o.env.HOME ?? os.homedir();
  for (const f of LOGIN_FILES[agent.kind] ?? []) {
    if (fs.existsSync(path.join(userHome, f))) return { ok: true, source: `login ~/${f}` };
  }
  return { ok: false, source: 'missing' };
}

/** The OS's reason a token file could not be read, without the stack. */
function tokenFileError(e: Error, code: string | undefined): string {
  const m = /cannot read [^:]+: (.*)$/s.exec(e.message);
  const raw = (m?.[1] ?? e.message).split('\n')[0] ?? '';
  if (code === 'ENOENT' || raw.startsWith('ENOENT')) return 'no such file';
  if (code === 'EACCES' || raw.startsWith('EACCES')) return 'permission denied';
  if (code === 'EISDIR' || raw.startsWith('EISDIR')) return 'it is a directory';
  return raw;
}

/**
 * Gemini CLI exits 41 before any request when it cannot pick an auth method:
 * no `security.auth.selectedType` in ~/.gemini/settings.json and nothing in
 * the environment that selects one (GEMINI_API_KEY alone does; with
 * GOOGLE_GEMINI_BASE_URL set it does not).
 */
export function geminiAuthProblem(
  agent: AgentConfig,
  o: { env: NodeJS.ProcessEnv },
): string | null {
  const env: NodeJS.ProcessEnv = { ...o.env, ...agent.env };
  if (agent.token) env.GEMINI_API_KEY = agent.token;
  else if (agent.token_file) env.GEMINI_API_KEY = 'from token_file';
  const home = env.HOME || os.homedir();
  const file = path.join(home, '.gemini', 'settings.json');
  let selected: unknown;
  let unreadable: string | null = null;
  try {
    const json = JSON.parse(fs.readFileSync(file, 'utf8')) as {
      security?: { auth?: { selectedType?: unknown } };
    };
    selected = json?.security?.auth?.selectedType;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code !== 'ENOENT') unreadable = err.code ?? err.message.split('\n')[0] ?? '';
  }
  if (typeof selected === 'string' && selected !== '') return null;
  if (
    env.GOOGLE_GENAI_USE_GCA === 'true' ||
    env.GOOGLE_GENAI_USE_VERTEXAI === 'true' ||
    env.CLOUD_SHELL === 'true' ||
    env.GEMINI_CLI_USE_COMPUTE_ADC === 'true'
  )
    return null;
  if (env.GEMINI_API_KEY && !env.GOOGLE_GEMINI_BASE_URL) return null;
  const where = unreadable
    ? `${file} is not valid JSON (${unreadable})`
    : `${file} has no security.auth.selectedType`;
  const why = env.GOOGLE_GEMINI_BASE_URL
    ? ' and GOOGLE_GEMINI_BASE_URL is set'
    : ' and no GEMINI_API_KEY, GOOGLE_GENAI_USE_VERTEXAI or GOOGLE_GENAI_USE_GCA is set';
  return `gemini will exit 41 before any request: ${where}${why}: set security.auth.selectedType (e.g. "gemini-api-key") in that file`;
}
