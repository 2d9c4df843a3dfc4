/**
 * Agents call back into the board (`agentboard task add --parent
 * $AGENTBOARD_TASK_ID`, `agentboard bus post`, `agentboard task wait`). They
 * must reach the same agentboard as the engine that started them, even when
 * it is not installed on PATH (a checkout, `npx`). So the engine writes a
 * tiny `agentboard` launcher into `$AGENTBOARD_HOME/bin` that runs this
 * build's CLI with this Node, and puts that directory first on the agent's
 * PATH; `AGENTBOARD_CLI` names the launcher itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const CLI_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

/**
 * The launcher's path, checked (one small read) and rewritten atomically if
 * it is not this build's, at every launch: an agent that replaced it must
 * not get its program run by the next agent. null when it cannot be written
 * (a read-only home): the agent then has only the PATH it inherited, which
 * is no reason to fail its run.
 */
export function ensureCliShim(home: string): string | null {
  try {
    return writeShim(home);
  } catch {
    return null;
  }
}

function writeShim(home: string): string {
  const dir = path.join(home, 'bin');
  const file = path.join(dir, 'agentboard');
  const text = `#!/bin/sh\nexec ${shellQuote(process.execPath)} ${shellQuote(CLI_MAIN)} "$@"\n`;
  let current: string | null = null;
  try {
    current = fs.readFileSync(file, 'utf8');
  } catch {
    // not written yet
  }
  if (current !== text) {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    // Executable by its owner alone: the home is private (file modes, README).
    fs.writeFileSync(tmp, text, { mode: 0o700 });
    fs.renameSync(tmp, file);
  }
  return file;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
