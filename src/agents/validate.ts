import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import { agentCommand } from '../config/schema.js';
import { resolveCommand } from '../runner/resolve-command.js';
import { adapterFor, readToken } from './registry.js';

export interface AgentStatus {
  name: string;
  kind: AgentConfig['kind'];
  command: string;
  path: string | null;
  version: string | null;
  minVersion: string | null;
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
  const found = resolveCommand(command, o.env.PATH ?? '', o.cwd);
  if (!found)
    problems.push(
      `\`${command}\` is not installed or not on PATH: install it or set agents.${name}.command`,
    );
  let version: string | null = null;
  if (found && agent.kind !== 'command') {
    version = await detectVersion(found, adapter.versionArgs, { ...o.env, ...agent.env });
    if (!version) warnings.push(`could not read the version of ${command}`);
  }
  const versionOk =
    version && adapter.testedVersions
      ? compareVersions(version, adapter.testedVersions.min) >= 0
      : null;
  if (versionOk === false) {
    warnings.push(
      `version ${version} is older than the oldest tested (${adapter.testedVersions?.min}): upgrade it`,
    );
  }
  const credentials = checkCredentials(name, agent, adapter.tokenEnv, o);
  if (!credentials.ok) {
    problems.push(
      `no credentials: set agents.${name}.token or token_file, export ${adapter.tokenEnv}, or log in with the CLI`,
    );
  }
  return {
    name,
    kind: agent.kind,
    command,
    path: found,
    version,
    minVersion: adapter.testedVersions?.min ?? null,
    versionOk,
    credentials,
    problems,
    warnings,
    canRun: problems.length === 0,
  };
}

function checkCredentials(
  name: string,
  agent: AgentConfig,
  tokenEnv: string,
  o: { env: NodeJS.ProcessEnv; home: string },
): { ok: boolean; source: string } {
  if (agent.kind === 'command') return { ok: true, source: 'not needed' };
  if (agent.token) return { ok: true, source: 'token (config)' };
  if (agent.token_file) {
    try {
      return readToken(name, agent, o.home)
        ? { ok: true, source: `token_file ${agent.token_file}` }
        : { ok: false, source: `token_file ${agent.token_file} is empty` };
    } catch {
      return { ok: false, source: `token_file ${agent.token_file} is unreadable` };
    }
  }
  if (agent.env[tokenEnv] || o.env[tokenEnv]) return { ok: true, source: `env ${tokenEnv}` };
  const userHome = agent.env.HOME ?? o.env.HOME ?? os.homedir();
  for (const f of LOGIN_FILES[agent.kind] ?? []) {
    if (fs.existsSync(path.join(userHome, f))) return { ok: true, source: `login ~/${f}` };
  }
  return { ok: false, source: 'missing' };
}

function detectVersion(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 15_000, maxBuffer: 1 << 20 }, (_err, stdout, stderr) => {
      const m = /(\d+\.\d+\.\d+(?:[-.][0-9A-Za-z.]+)?)/.exec(`${stdout}\n${stderr}`);
      resolve(m?.[1] ?? null);
    });
  });
}

export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  const pb = b.split(/[.-]/).map((x) => Number.parseInt(x, 10) || 0);
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
