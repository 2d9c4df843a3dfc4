/**
 * Agent profiles: standing instructions and a working-memory file, applied to
 * every prompt of the agent when its run is launched (not when it is queued):
 * a queued run may wait for hours, and it must see the memory as the previous
 * run left it and the instructions as they are configured now. The run row
 * keeps the prompt it was given; prompt.md in the run directory holds what
 * the agent actually received.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { AgentConfig } from '../config/schema.js';
import { ConfigError } from '../domain/errors.js';
import type { App } from './context.js';

/** Memory beyond this many characters is cut (the start is kept) so a runaway file cannot flood the prompt. */
export const MAX_MEMORY_CHARS = 64_000;

export const MEMORY_ENV = 'AGENTBOARD_MEMORY_FILE';

/** Where the agent's working memory lives: `memory_file` (relative to AGENTBOARD_HOME) or agents/<name>/MEMORY.md. */
export function memoryFileOf(app: App, name: string, agent: AgentConfig): string {
  return path.resolve(app.paths.home, agent.memory_file ?? path.join('agents', name, 'MEMORY.md'));
}

export function instructionsOf(app: App, name: string, agent: AgentConfig): string {
  if (agent.instructions) return agent.instructions.trim();
  if (!agent.instructions_file) return '';
  const file = path.resolve(app.paths.home, agent.instructions_file);
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    throw new ConfigError(
      `agents.${name}.instructions_file: cannot read ${file}: ${(e as Error).message}`,
    );
  }
}

function readMemory(file: string): string {
  // Most agents never write one: asking first spares a thrown ENOENT per launch.
  if (!fs.existsSync(file)) return '';
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw new ConfigError(`cannot read the memory file ${file}: ${(e as Error).message}`);
  }
}

export interface ProfiledPrompt {
  prompt: string;
  memoryFile: string;
}

/**
 * The prompt the agent receives: its instructions, then its working memory,
 * then the run's own prompt. An agent with no profile settings and an empty
 * memory gets the run's prompt unchanged. Creates the memory file's
 * directory so the agent can write it.
 */
export function applyProfile(
  app: App,
  name: string,
  agent: AgentConfig,
  prompt: string,
): ProfiledPrompt {
  const memoryFile = memoryFileOf(app, name, agent);
  fs.mkdirSync(path.dirname(memoryFile), { recursive: true, mode: 0o700 });
  const instructions = instructionsOf(app, name, agent);
  let memory = readMemory(memoryFile);
  const hasProfile =
    instructions !== '' || agent.memory_file !== undefined || agent.heartbeat !== undefined;
  if (!hasProfile && memory === '') return { prompt, memoryFile };
  if (memory.length > MAX_MEMORY_CHARS) {
    memory = `${memory.slice(0, MAX_MEMORY_CHARS)}\n\n[memory cut at ${MAX_MEMORY_CHARS} characters: keep the file shorter]`;
  }
  const parts: string[] = [];
  if (instructions) parts.push(instructions);
  parts.push(
    [
      '## Working memory',
      '',
      `Your working memory is the file ${memoryFile} (its path is also in $${MEMORY_ENV}). It is kept between runs: update it with what you want to remember next time.`,
      '',
      memory || '(empty)',
    ].join('\n'),
  );
  parts.push(`---\n\n${prompt}`);
  return { prompt: parts.join('\n\n'), memoryFile };
}
