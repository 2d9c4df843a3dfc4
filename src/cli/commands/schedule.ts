import type { Command } from 'commander';
import {
  addSchedule,
  listScheduleViews,
  removeSchedule,
  type ScheduleView,
} from '../../app/schedules.js';
import { UsageError } from '../../domain/errors.js';
import { parseTaskId } from '../../domain/ids.js';
import { parseCatchUp, parseOverlap, parseScheduleId } from '../../domain/schedule.js';
import { duration, readTextFile } from '../args.js';
import { printJson, println, truncate } from '../output.js';
import { withApp } from '../with-app.js';

interface AddFlags {
  agent?: string;
  prompt?: string;
  promptFile?: string;
  task?: string;
  title?: string;
  catchUp?: string;
  catchUpWindow?: number;
  overlap?: string;
  timezone?: string;
  json?: boolean;
}

export function registerSchedule(program: Command): void {
  const schedule = program
    .command('schedule')
    .description('Cron schedules: a task (or a run on a fixed task) for each tick');

  schedule
    .command('add <cron>')
    .description(
      'Add a schedule, e.g. schedule add "0 9 * * 1-5" --agent triage --prompt-file triage.md',
    )
    .option('--agent <name>', 'agent that runs each tick')
    .option('--prompt <text>', 'what the agent is asked to do at each tick')
    .option('--prompt-file <file>', 'read the prompt from a file (- for stdin), once, now')
    .option('--task <id>', 'run on this task at each tick instead of creating a task per tick')
    .option('--title <text>', 'title of the task created per tick (the tick time is appended)')
    .option('--catch-up <policy>', 'ticks missed while down: skip | latest | all (default latest)')
    .option(
      '--catch-up-window <duration>',
      'how old a missed tick may be to still fire (default 6h)',
      duration,
    )
    .option(
      '--overlap <policy>',
      'previous tick still running: skip | queue | allow (default skip)',
    )
    .option('--timezone <tz>', 'IANA time zone of the cron fields (default UTC)')
    .option('--json', 'print the schedule as JSON')
    .action(async (cron: string, o: AddFlags) => {
      if (o.prompt !== undefined && o.promptFile !== undefined) {
        throw new UsageError('give either --prompt or --prompt-file, not both');
      }
      if (o.prompt === undefined && o.promptFile === undefined) {
        throw new UsageError('a schedule needs a prompt: give --prompt "…" or --prompt-file FILE');
      }
      const input = {
        cron,
        agent: o.agent ?? null,
        prompt: o.prompt ?? readTextFile(o.promptFile as string),
        taskId: o.task === undefined ? null : parseTaskId(o.task),
        title: o.title ?? null,
        ...(o.catchUp !== undefined ? { catchUp: parseCatchUp(o.catchUp) } : {}),
        ...(o.catchUpWindow !== undefined ? { catchUpWindowMs: o.catchUpWindow } : {}),
        ...(o.overlap !== undefined ? { overlap: parseOverlap(o.overlap) } : {}),
        timezone: o.timezone ?? null,
      };
      const view = await withApp((app) => addSchedule(app, input));
      if (o.json) printJson(view);
      else
        println(`${view.id} ${view.cron} → ${view.agent}, next tick ${view.nextTickAt ?? 'never'}`);
    });

  schedule
    .command('list')
    .description('List schedules with their next tick and what their ticks did')
    .option('--json', 'print JSON')
    .action(async (o: { json?: boolean }) => {
      const views = await withApp((app) => listScheduleViews(app));
      if (o.json) printJson(views);
      else if (views.length === 0) println('no schedules (add one with `agentboard schedule add`)');
      else for (const v of views) println(formatLine(v));
    });

  schedule
    .command('rm <id>')
    .description('Remove a schedule (the tasks and runs it created stay)')
    .option('--json', 'print the result as JSON')
    .action(async (id: string, o: { json?: boolean }) => {
      const n = parseScheduleId(id);
      const out = await withApp((app) => removeSchedule(app, n));
      if (o.json) printJson(out);
      else println(`removed ${out.id}`);
    });
}

function formatLine(v: ScheduleView): string {
  const what = v.heartbeat
    ? `heartbeat of ${v.agent}`
    : `${v.agent}${v.task ? ` on ${v.task}` : ''}: ${truncate(v.title ?? v.prompt, 40)}`;
  const tz = v.timezone ? ` ${v.timezone}` : '';
  const state = v.enabled ? `next ${v.nextTickAt ?? 'never'}` : 'disabled';
  const t = v.ticks;
  return `${v.id}  ${v.cron}${tz}  ${what}  (${state}; runs ${t.run}, skipped ${t.skipped}, waiting ${t.waiting}, idle ${t.idle}; catch-up ${v.catchUp}, overlap ${v.overlap})`;
}
