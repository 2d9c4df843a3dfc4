import type { Command } from 'commander';
import { listTaskViews } from '../../app/tasks.js';
import { TASK_STATUSES } from '../../domain/task.js';
import { countTasksByStatus } from '../../store/tasks.js';
import { formatBoard } from '../board-format.js';
import { println, useColor } from '../output.js';
import { withApp } from '../with-app.js';
import { initBoard } from './init.js';

/** `npm start`: make sure the board exists, show it, and say what to do next. */
export function registerStart(program: Command): void {
  program
    .command('start')
    .description('set up the board if needed, show it, and explain the next steps')
    .action(async () => {
      const init = await initBoard();
      if (init.created) println(`Created ${init.config}\n`);
      await withApp(async (app) => {
        const statuses = TASK_STATUSES.filter((s) => s !== 'cancelled');
        const views = (
          await Promise.all(statuses.map((s) => listTaskViews(app, { statuses: [s], limit: 10 })))
        ).flat();
        const counts = await countTasksByStatus(app.store.db);
        process.stdout.write(
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
      });
      println(`
Next steps:
  agentboard task add "Fix the login bug" --agent <name> --priority high
  agentboard task list                 the board
  agentboard task show T-1             a task with its runs and comments
  agentboard --help                    everything else`);
    });
}
