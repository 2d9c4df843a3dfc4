import fs from 'node:fs';
import type { Command } from 'commander';
import { ensureHome, resolvePaths, writePrivateFile } from '../../config/home.js';
import { AGENT_KINDS, type AgentKind, DEFAULT_COMMANDS } from '../../config/schema.js';
import { configTemplate } from '../../config/template.js';
import { resolveCommand } from '../../runner/resolve-command.js';
import { printJson, println } from '../output.js';
import { withApp } from '../with-app.js';

export function detectAgentKinds(PATH: string): AgentKind[] {
  return AGENT_KINDS.filter(
    (k): k is Exclude<AgentKind, 'command'> =>
      k !== 'command' && resolveCommand(DEFAULT_COMMANDS[k], PATH) !== null,
  );
}

export interface InitResult {
  home: string;
  config: string;
  created: boolean;
  detectedAgents: AgentKind[];
}

/** Creates the board's home with a commented config.yaml and the database. Idempotent. */
export async function initBoard(): Promise<InitResult> {
  const paths = resolvePaths(process.env, process.cwd());
  ensureHome(paths, () => {}); // openApp, below, says what is wrong with it
  const detectedAgents = detectAgentKinds(process.env.PATH ?? '');
  let created = false;
  if (!fs.existsSync(paths.config)) {
    // 0600: it may come to hold a `token:` (see the README on keeping secrets out of it).
    writePrivateFile(paths.config, configTemplate(detectedAgents));
    created = true;
  }
  await withApp(async () => {});
  return { home: paths.home, config: paths.config, created, detectedAgents };
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description(
      'create the board ($AGENTBOARD_HOME, default ./.agentboard) and a commented config.yaml',
    )
    .option('--json', 'print JSON')
    .action(async (f) => {
      const r = await initBoard();
      if (f.json) return printJson(r);
      println(r.created ? `Created ${r.config}` : `${r.config} already exists (left unchanged)`);
      println(
        r.detectedAgents.length > 0
          ? `Agent CLIs found on PATH: ${r.detectedAgents.join(', ')}`
          : 'No agent CLI found on PATH (claude, codex, gemini, opencode, cursor-agent, amp): add one under agents in config.yaml.',
      );
      println('Next: agentboard task add "Describe the work" --agent <name>');
    });
}
