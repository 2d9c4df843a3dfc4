import type { Command } from 'commander';
import { findRuns } from '../../app/lookups.js';
import { resolveRun, startRun } from '../../app/runs.js';
import { engineIsRunning, runViews } from '../../app/workers.js';
import { UsageError } from '../../domain/errors.js';
import { formatDuration } from '../../domain/exit.js';
import { parseTaskId } from '../../domain/ids.js';
import { RUN_STATES } from '../../domain/run.js';
import { collect, positiveInt, readTextFile } from '../args.js';
import { followRunLog } from '../follow-run.js';
import { paint, printErr, printJson, println, truncate, useColor } from '../output.js';
import { type StopReport, stopRuns } from '../stop-runs.js';
import { withApp } from '../with-app.js';

/** The REASON column of a run whose lease expired with no engine alive. */
const UNSUPERVISED = 'unsupervised: lease expired, no engine alive';

export function registerRuns(program: Command): void {
  program
    .command('run <task>')
    .description('queue a run of a task now (the engine, `agentboard serve`, executes it)')
    .option('--agent <name>', "agent to use instead of the task's own")
    .option('--prompt <text>', "a follow-up prompt; resumes the agent's last session on this task")
    .option('--prompt-file <file>', 'read the follow-up prompt from a file (- for stdin)')
    .option('--fresh', 'with --prompt: start a new agent session instead of resuming')
    .option('--follow', "stream the agent's output until the run ends")
    .option('--json', 'print JSON')
    .action(async (task: string, f) => {
      await withApp(async (app) => {
        if (f.prompt !== undefined && f.promptFile !== undefined) {
          throw new UsageError('use --prompt or --prompt-file, not both');
        }
        const prompt = f.promptFile !== undefined ? readTextFile(f.promptFile) : f.prompt;
        const run = await startRun(app, parseTaskId(task), {
          ...(f.agent ? { agent: f.agent } : {}),
          ...(prompt !== undefined ? { prompt } : {}),
          fresh: Boolean(f.fresh),
        });
        if (f.json) printJson(run);
        else println(`${run.id} queued for ${run.task} (agent ${run.agent})`);
        if (!(await engineIsRunning(app))) {
          printErr('note: no engine is running; start one with `agentboard serve` to execute it');
        }
        if (f.follow) {
          await followRunLog(app, run.id, 'stdout', process.stdout, { follow: true });
          const ended = (await findRuns(app, { taskId: parseTaskId(task), limit: 1 }))[0];
          if (ended && ended.id === run.id && ended.state !== 'succeeded') process.exitCode = 1;
        }
      });
    });

  program
    .command('stop [target]')
    .description('stop a run (by run id or task id); SIGTERM, then SIGKILL after stop_grace')
    .option('--force', 'SIGKILL at once')
    .option('--all', 'stop every active run')
    .option('--json', 'print JSON')
    .action(async (target: string | undefined, f) => {
      if (!target && !f.all) throw new UsageError('name a run or task to stop, or pass --all');
      await withApp(async (app) => {
        const stopped = await stopRuns(app, {
          target,
          all: Boolean(f.all),
          force: Boolean(f.force),
        });
        if (f.json) printJson(stopped);
        else if (stopped.length === 0) println('no active runs');
        for (const r of stopped) {
          if (r.outcome === 'not_reached') {
            // Never a bare "running" and exit 0: the agent may well still be running.
            printErr(`${r.id} (${r.task}): not stopped: ${r.message}`);
            process.exitCode = 1;
          } else if (!f.json) {
            println(`${r.id} (${r.task}): ${stopLine(r)}`);
          }
        }
      });
    });

  program
    .command('logs <target>')
    .description("print a run's output (by run id, or a task's latest run)")
    .option('-f, --follow', 'keep streaming until the run ends')
    .option('--stderr', 'the error stream instead of standard output')
    .action(async (target: string, f) => {
      await withApp(async (app) => {
        const run = await resolveRun(app, target);
        await followRunLog(app, run.id, f.stderr ? 'stderr' : 'stdout', process.stdout, {
          follow: Boolean(f.follow),
        });
      });
    });

  program
    .command('runs')
    .description('list runs, newest first')
    .option('--task <id>', 'only runs of this task')
    .option('--state <states>', `only these states: ${RUN_STATES.join(', ')}`, collect)
    .option('--agent <name>', 'only runs of this agent')
    .option('--limit <n>', 'how many', positiveInt('limit'), 50)
    .option('--json', 'print JSON')
    .action(async (f) => {
      for (const s of (f.state as string[] | undefined) ?? []) {
        if (!(RUN_STATES as readonly string[]).includes(s)) {
          throw new UsageError(
            `unknown run state "${s}": valid states are ${RUN_STATES.join(', ')}`,
          );
        }
      }
      const views = await withApp(async (app) =>
        runViews(
          app,
          await findRuns(app, {
            ...(f.task ? { taskId: parseTaskId(f.task) } : {}),
            ...(f.state ? { states: f.state } : {}),
            ...(f.agent ? { agent: f.agent } : {}),
            limit: f.limit,
          }),
        ),
      );
      if (f.json) return printJson(views);
      const c = paint(useColor());
      println(
        c(
          'bold',
          'RUN                        TASK   AGENT    STATE      TRY  EXIT  DURATION  CPU     PEAK MEM  REASON',
        ),
      );
      for (const r of views) {
        const dur = r.durationMs !== null ? formatDuration(r.durationMs) : '';
        const cpu = r.cpuMs !== null ? formatDuration(r.cpuMs) : '';
        const mem = r.peakRssBytes !== null ? `${(r.peakRssBytes / 1048576).toFixed(1)}MB` : '';
        println(
          [
            r.id.padEnd(26),
            r.task.padEnd(6),
            r.agent.padEnd(8),
            r.state.padEnd(10),
            `${r.attempt}/${r.maxAttempts}`.padEnd(4),
            String(r.exitCode ?? '').padEnd(5),
            dur.padEnd(9),
            cpu.padEnd(7),
            mem.padEnd(9),
            r.unsupervised
              ? c('yellow', UNSUPERVISED)
              : truncate(r.errorSummary?.split('\n')[0] ?? '', 50),
          ].join(' '),
        );
      }
      if (views.length === 0) println(c('dim', 'no runs yet: start one with `agentboard run T-1`'));
      if (views.some((r) => r.unsupervised)) {
        printErr(
          'note: no engine is alive, so unsupervised runs keep their last known state; start `agentboard serve` or `agentboard worker` to adopt them or record their end',
        );
      }
    });
}

function stopLine(r: StopReport): string {
  if (r.outcome === 'stopping') return `stopping (${r.message})`;
  return `${r.state}${r.errorSummary ? ` — ${r.errorSummary.split('\n')[0]}` : ''}`;
}
