import fs from 'node:fs';
import path from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import { ConfigError } from '../domain/errors.js';
import type { AgentAdapter } from './adapter.js';
import { ampAdapter } from './amp.js';
import { claudeAdapter } from './claude.js';
import { codexAdapter } from './codex.js';
import { commandAdapter } from './command.js';
import { copilotAdapter } from './copilot.js';
import { cursorAdapter } from './cursor.js';
import { geminiAdapter } from './gemini.js';
import { opencodeAdapter } from './opencode.js';
import { qwenAdapter } from './qwen.js';

const ADAPTERS: Record<AgentConfig['kind'], AgentAdapter> = {
  claude: claudeAdapter,
  codex: codexAdapter,
  gemini: geminiAdapter,
  opencode: opencodeAdapter,
  copilot: copilotAdapter,
  qwen: qwenAdapter,
  cursor: cursorAdapter,
  amp: ampAdapter,
  command: commandAdapter,
};

export function adapterFor(name: string, agent: AgentConfig): AgentAdapter {
  const a = ADAPTERS[agent.kind];
  if (!a) throw new ConfigError(`agents.${name}: no adapter for kind "${agent.kind}"`);
  return a;
}

/** The agent's API key from `token` or `token_file`; null means "from the environment". */
export function readToken(name: string, agent: AgentConfig, baseDir: string): string | null {
  if (agent.token) return agent.token;
  if (!agent.token_file) return null;
  const file = path.resolve(baseDir, agent.token_file);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(
      `agents.${name}.token_file: cannot read ${file}: ${(e as Error).message}`,
    );
  }
}
