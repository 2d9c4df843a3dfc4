import type { Command } from 'commander';
import { AgentboardError } from '../../domain/errors.js';
import { formatDuration } from '../../domain/exit.js';
import { duration, taskIds } from '../args.js';
import { withBoard } from '../board.js';
import { printJson, println } from '../output.js';

/** Why `task wait` failed: exit 1 with one clear line (and the JSON result with --json). */
class WaitFailed extends AgentboardError {
  constructor(code: 'wait_timeout' | 'wait_failed', message: string) {
    super(code, message);
  }
}

/**
 * `agentboard task wait T-5 [T-6 …] [--timeout 10m]`: exit 0 once every task
 * is Done; 1 as soon as one is Blocked or Cancelled, or when the time is up.
 */
export function registerTaskWait(task: Command): void {
  task
    .command('wait <ids...>')
    .description(
      'wait until the tasks are Done (exit 0); exit 1 when one is Blocked or Cancelled, or on --timeout',
    )
    .option('--timeout <duration>', 'give up after this long (e.g. 90s, 10m)', duration)
    .option('--review-ok', 'a task in Review counts as finished')
    .option('--json', 'print the result as JSON')
    .action(async (ids: string[], f) => {
      const r = await withBoard((board) =>
        board.waitForTasks(taskIds(ids) ?? [], {
          ...(f.timeout !== undefined ? { timeoutMs: f.timeout } : {}),
          reviewOk: f.reviewOk === true,
        }),
      );
      if (f.json) printJson(r);
      if (r.outcome === 'done') {
        if (!f.json) println(`${r.tasks.map((t) => t.id).join(', ')} done`);
        return;
      }
      if (r.outcome === 'timeout') {
        const open = r.tasks.filter((t) => t.status !== 'done');
        throw new WaitFailed(
          'wait_timeout',
          `timed out after ${formatDuration(r.waitedMs)}: ${open.map((t) => `${t.id} is ${t.status}`).join(', ')}`,
        );
      }
      const bad = r.tasks.filter((t) => t.status === 'blocked' || t.status === 'cancelled');
      throw new WaitFailed(
        'wait_failed',
        bad
          .map(
            (t) =>
              `${t.id} is ${t.status}${t.statusReason ? `: ${t.statusReason.split('\n')[0]}` : ''}`,
          )
          .join('; '),
      );
    });
}
