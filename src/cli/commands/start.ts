import type { Command } from 'commander';
import { countTasks } from '../../app/lookups.js';
import { listTaskViews } from '../../app/tasks.js';
import { TASK_STATUSES } from '../../domain/task.js';
import { formatBoard } from '../board-format.js';
import { openBrowser } from '../open-browser.js';
import { print, println, useColor } from '../output.js';
import { withApp } from '../with-app.js';
import { initBoard } from './init.js';

/** `npm start`: make sure the board exists, show it, and say what to do next. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('set up the board if needed, show it, then run the engine')
    .option('--no-engine', 'only show the board and the next steps')
    .action(async (f: { engine?: boolean }) => {
      const init = await initBoard();
      if (init.created) println(`Created ${init.config}\n`);
      await withApp(async (app) => {
        const statuses = TASK_STATUSES.filter((s) => s !== 'cancelled');
        const views = (
          await Promise.all(statuses.map((s) => listTaskViews(app, { statuses: [s], limit: 10 })))
        ).flat();
        const counts = await countTasks(app);
        print(
          formatBoard(views, {
            color: useColor(),
            width: process.stdout.columns ?? 100,
            counts,
            statuses,
            perColumn: 10,
          }),
        );
        const agents = Object.keys(app.config.agents);
        println(`Board: ${app.paths.home}   Agents: ${agents.join(', ') || 'none configured'}`);
        if (agents.length === 0) {
          println(
            `No agents yet: add one under agents in ${app.paths.config} (any command works: kind: command).`,
          );
        }
      });
      println(`
Next steps, in another terminal (npx agentboard …):
  agentboard task add "Fix the login bug" --agent <name> --priority high
  agentboard task list                 the board
  agentboard runs                      every attempt, live
  agentboard logs T-1 -f               follow an agent's output
  agentboard open                      the web board, logged in
  agentboard --help                    everything else
`);
      if (f.engine === false) return;
      println(
        'Starting the board and the engine (Ctrl-C stops them; running agents are left alone and re-adopted next time).',
      );
      await (await import('./serve-run.js')).serveInForeground({}, (url) => openBrowser(url));
    });
}
