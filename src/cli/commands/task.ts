import type { Command } from 'commander';
import { cancelTask, editTask, moveTask, type TaskPatch } from '../../app/tasks.js';
import { UsageError } from '../../domain/errors.js';
import { parseTaskId } from '../../domain/ids.js';
import {
  parsePriority,
  parseTaskStatus,
  TASK_STATUSES,
  type TaskStatus,
} from '../../domain/task.js';
import {
  collect,
  duration,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
  readTextFile,
  taskIds,
} from '../args.js';
import { withBoard } from '../board.js';
import { formatBoard } from '../board-format.js';
import { print, printJson, println, useColor } from '../output.js';
import { formatTaskDetail } from '../task-detail-format.js';
import { withApp } from '../with-app.js';
import { defaultAuthor } from './bus.js';
import { registerTaskWait } from './task-wait.js';

interface TaskFlags {
  body?: string;
  bodyFile?: string;
  agent?: string;
  priority?: string;
  label?: string[];
  dependsOn?: string[];
  parent?: string;
  status?: string;
  verify?: string;
  loop?: boolean;
  maxIterations?: number;
  loopDelay?: number;
  doneFile?: string;
  maxAttempts?: number;
  maxCost?: number;
  json?: boolean;
}

interface EditFlags extends TaskFlags {
  title?: string;
  addDep?: string[];
  rmDep?: string[];
  clearAgent?: boolean;
  clearParent?: boolean;
  clearVerify?: boolean;
}

function taskOptions(cmd: Command): Command {
  return cmd
    .option('--body <text>', 'markdown body')
    .option('--body-file <file>', 'read the markdown body from a file (- for stdin)')
    .option('--agent <name>', 'agent that carries the task out')
    .option('--priority <p>', 'low | medium | high | urgent')
    .option('--label <labels>', 'label (repeatable, or comma-separated)', collect)
    .option('--parent <id>', 'parent task (makes this a subtask)')
    .option('--verify <command>', 'command that verifies the work (exit 0 = verified)')
    .option('--loop', 'loop mode: re-run until DONE exists or --verify passes')
    .option('--max-iterations <n>', 'loop mode: iteration limit', positiveInt('max-iterations'))
    .option('--loop-delay <duration>', 'loop mode: pause between iterations (e.g. 30s)', duration)
    .option(
      '--done-file <path>',
      'loop mode: marker file, relative to the workspace (default DONE)',
    )
    .option(
      '--max-attempts <n>',
      'attempts before the card is Blocked',
      positiveInt('max-attempts'),
    )
    .option('--max-cost <usd>', 'budget for one run, in USD', positiveNumber('max-cost'))
    .option('--json', 'print JSON');
}

function bodyOf(f: TaskFlags): string | undefined {
  if (f.body !== undefined && f.bodyFile !== undefined) {
    throw new UsageError('use --body or --body-file, not both');
  }
  return f.bodyFile !== undefined ? readTextFile(f.bodyFile) : f.body;
}

function loopOf(f: TaskFlags) {
  if (
    f.loop === undefined &&
    f.maxIterations === undefined &&
    f.loopDelay === undefined &&
    !f.doneFile
  ) {
    return undefined;
  }
  return {
    ...(f.loop !== undefined ? { enabled: f.loop } : {}),
    ...(f.maxIterations !== undefined ? { maxIterations: f.maxIterations } : {}),
    ...(f.loopDelay !== undefined ? { delayMs: f.loopDelay } : {}),
    ...(f.doneFile !== undefined ? { doneFile: f.doneFile } : {}),
  };
}

export function registerTask(program: Command): void {
  const task = program.command('task').description('create, list and change tasks');

  taskOptions(
    task
      .command('add <title>')
      .description(
        'add a task (it starts at once when it is in Todo with an agent and autostart is on)',
      )
      .option(
        '--depends-on <ids>',
        'tasks that must be done first (repeatable, or comma-separated)',
        collect,
      )
      .option(
        '--status <status>',
        `initial column: ${TASK_STATUSES.filter((s) => s !== 'in_progress' && s !== 'cancelled').join(', ')} (default todo)`,
      ),
  ).action(async (title: string, f: TaskFlags) => {
    const body = bodyOf(f);
    const view = await withBoard((board) =>
      board.addTask({
        title,
        ...(body !== undefined ? { body } : {}),
        ...(f.status ? { status: parseTaskStatus(f.status) } : {}),
        ...(f.priority ? { priority: parsePriority(f.priority) } : {}),
        ...(f.agent !== undefined ? { agent: f.agent } : {}),
        ...(f.label ? { labels: f.label } : {}),
        ...(f.parent ? { parent: parseTaskId(f.parent) } : {}),
        ...(f.dependsOn ? { dependsOn: taskIds(f.dependsOn) ?? [] } : {}),
        ...(f.verify !== undefined ? { verifyCommand: f.verify } : {}),
        ...(loopOf(f) ? { loop: loopOf(f) } : {}),
        ...(f.maxAttempts !== undefined ? { maxAttempts: f.maxAttempts } : {}),
        ...(f.maxCost !== undefined ? { maxCostUsd: f.maxCost } : {}),
      }),
    );
    if (f.json) printJson(view);
    else println(`${view.id} added to ${view.status}: ${view.title}`);
  });

  task
    .command('list')
    .description('show the board')
    .option('--status <statuses>', 'only these columns (repeatable, or comma-separated)', collect)
    .option('--agent <name>', 'only tasks of this agent')
    .option('--label <label>', 'only tasks with this label')
    .option('--search <text>', 'only tasks whose title or body contains the text')
    .option('--all', 'include cancelled tasks')
    .option(
      '--limit <n>',
      'cards per column (board) or tasks in all (--json)',
      positiveInt('limit'),
    )
    .option('--json', 'print JSON')
    .action(async (f) => {
      const statuses: TaskStatus[] = f.status
        ? (f.status as string[]).map(parseTaskStatus)
        : TASK_STATUSES.filter((s) => f.all || s !== 'cancelled');
      await withBoard(async (board) => {
        const filter = { statuses, agent: f.agent, label: f.label, search: f.search };
        if (f.json) {
          printJson((await board.listTasks({ ...filter, limit: f.limit ?? 1000 })).items);
          return;
        }
        const perColumn = f.limit ?? 20;
        const columns = await Promise.all(
          statuses.map((s) => board.listTasks({ ...filter, statuses: [s], limit: perColumn })),
        );
        const views = columns.flatMap((c) => c.items);
        const counts = Object.assign({}, ...columns.map((c) => c.counts));
        print(
          formatBoard(views, {
            color: useColor(),
            width: process.stdout.columns ?? 100,
            counts,
            statuses,
            perColumn,
          }),
        );
      });
    });

  task
    .command('show <id>')
    .description('show a task with its runs and comments')
    .option('--json', 'print JSON')
    .action(async (id: string, f) => {
      const [detail, tree] = await withBoard((board) =>
        Promise.all([board.showTask(parseTaskId(id)), board.taskTree(parseTaskId(id))]),
      );
      // `subtasks`: the children again, recursively, each with its runs.
      if (f.json) printJson({ ...detail, subtasks: tree.root.children });
      else print(formatTaskDetail(detail, useColor(), tree));
    });

  registerTaskWait(task);

  taskOptions(
    task
      .command('edit <id>')
      .description('change a task')
      .option('--title <title>', 'new title')
      .option('--clear-agent', 'remove the agent')
      .option('--clear-parent', 'detach from its parent')
      .option('--clear-verify', 'remove the verify command')
      .option('--add-dep <ids>', 'add dependencies', collect)
      .option('--rm-dep <ids>', 'remove dependencies', collect),
  ).action(async (id: string, f: EditFlags) => {
    const body = bodyOf(f);
    const patch: TaskPatch = {
      ...(f.title !== undefined ? { title: f.title } : {}),
      ...(body !== undefined ? { body } : {}),
      ...(f.priority ? { priority: parsePriority(f.priority) } : {}),
      ...(f.label ? { labels: f.label } : {}),
      ...(f.clearAgent ? { agent: null } : f.agent !== undefined ? { agent: f.agent } : {}),
      ...(f.clearParent ? { parent: null } : f.parent ? { parent: parseTaskId(f.parent) } : {}),
      ...(f.clearVerify ? { verifyCommand: null } : f.verify ? { verifyCommand: f.verify } : {}),
      ...(loopOf(f) ? { loop: loopOf(f) } : {}),
      ...(f.maxAttempts !== undefined ? { maxAttempts: f.maxAttempts } : {}),
      ...(f.maxCost !== undefined ? { maxCostUsd: f.maxCost } : {}),
      ...(f.addDep ? { addDependsOn: taskIds(f.addDep) } : {}),
      ...(f.rmDep ? { removeDependsOn: taskIds(f.rmDep) } : {}),
    };
    if (Object.keys(patch).length === 0)
      throw new UsageError('nothing to change: pass at least one option (see --help)');
    const view = await withApp((app) => editTask(app, parseTaskId(id), patch));
    if (f.json) printJson(view);
    else println(`${view.id} updated`);
  });

  task
    .command('move <id> <status>')
    .description(`move a card: ${TASK_STATUSES.join(', ')}`)
    .option(
      '--position <n>',
      '0-based place in the column (default: bottom)',
      nonNegativeInt('position'),
    )
    .option('--json', 'print JSON')
    .action(async (id: string, status: string, f) => {
      const view = await withApp((app) =>
        moveTask(app, parseTaskId(id), parseTaskStatus(status), f.position),
      );
      if (f.json) printJson(view);
      else println(`${view.id} is now in ${view.status}`);
    });

  task
    .command('comment <id> [text]')
    .description('comment on a task (text, --body-file, or stdin)')
    .option('--body-file <file>', 'read the comment from a file (- for stdin)')
    .option('--author <name>', 'who is commenting', defaultAuthor())
    .option('--json', 'print JSON')
    .action(async (id: string, text: string | undefined, f) => {
      const body = text ?? (f.bodyFile ? readTextFile(f.bodyFile) : undefined);
      if (body === undefined)
        throw new UsageError('give the comment text, or --body-file FILE (- for stdin)');
      const c = await withBoard((board) => board.comment(parseTaskId(id), f.author, body));
      if (f.json) printJson(c);
      else println(`comment ${c.id} added to ${id.toUpperCase()}`);
      if (!f.json && c.mentionRun)
        println(
          `@${c.mentionRun.agent}: run ${c.mentionRun.id} queued with the comment as its prompt`,
        );
    });

  task
    .command('cancel <id>')
    .description('cancel a task (its active run is stopped)')
    .option('--json', 'print JSON')
    .action(async (id: string, f) => {
      const view = await withApp((app) => cancelTask(app, parseTaskId(id)));
      if (f.json) printJson(view);
      else if (view.status === 'cancelled') println(`${view.id} cancelled`);
      else println(`${view.id}: stopping its run; the card is cancelled once the agent has exited`);
    });
}
