import type { Command } from 'commander';
import { type GcReport, runGc } from '../../app/gc.js';
import { diffRun, diffTask, discardTask, mergeTask, type TaskDiff } from '../../app/workspaces.js';
import { parseDuration } from '../../domain/duration.js';
import { parseTaskId } from '../../domain/ids.js';
import { print, printJson, println } from '../output.js';
import { withApp } from '../with-app.js';

export function registerWorkspaces(program: Command): void {
  program
    .command('diff <target>')
    .description("a task's changes against its base branch (T-n), or one run's changes (a run id)")
    .option('--stat', 'only the changed files and line counts')
    .option('--json', 'print JSON')
    .action(async (target: string, f) => {
      await withApp(async (app) => {
        const d = /^r[0-9a-z]+$/.test(target)
          ? await diffRun(app, target)
          : await diffTask(app, parseTaskId(target));
        if (f.json) printJson(d);
        else if (f.stat) println(formatStat(d));
        else print(d.patch);
      });
    });

  program
    .command('merge <task>')
    .description("merge a task's branch into its base branch (never touches uncommitted work)")
    .option('--squash', 'one commit on the base instead of a merge commit')
    .option('--json', 'print JSON')
    .action(async (task: string, f) => {
      await withApp(async (app) => {
        const r = await mergeTask(app, parseTaskId(task), { squash: Boolean(f.squash) });
        if (f.json) printJson(r);
        else if (r.outcome === 'up_to_date')
          println(`${r.task}: ${r.base} already contains ${r.branch}`);
        else
          println(
            `${r.task}: ${r.branch} ${r.squash ? 'squashed' : 'merged'} into ${r.base} (${r.commit.slice(0, 12)})${r.updatedCheckout ? `; ${r.updatedCheckout} updated` : ''}`,
          );
      });
    });

  program
    .command('discard <task>')
    .description("delete a task's worktree and branch")
    .option('--json', 'print JSON')
    .action(async (task: string, f) => {
      await withApp(async (app) => {
        const r = await discardTask(app, parseTaskId(task));
        if (f.json) printJson(r);
        else
          println(
            `${r.task}: deleted ${r.branch}${r.commit ? ` (was ${r.commit.slice(0, 12)}; \`git branch ${r.branch} ${r.commit}\` restores it)` : ''}${r.removedWorktree ? ` and ${r.removedWorktree}` : ''}`,
          );
      });
    });

  program
    .command('gc')
    .description(
      'remove run directories and worktrees of finished tasks past retention, and prune their events, messages, transcripts and shipped output',
    )
    .option('--older-than <duration>', 'retention, e.g. 7d (default: board.gc.older_than)')
    .option('--keep-failed', 'keep what failed runs left (and worktrees of Blocked tasks)')
    .option('--dry-run', 'list what would be removed, remove nothing')
    .option('--json', 'print JSON')
    .action(async (f) => {
      await withApp(async (app) => {
        const r = await runGc(app, {
          olderThanMs:
            f.olderThan !== undefined ? parseDuration(f.olderThan) : app.config.board.gc.older_than,
          keepFailed: Boolean(f.keepFailed) || app.config.board.gc.keep_failed,
          dryRun: Boolean(f.dryRun),
          fullVacuum: true,
        });
        if (f.json) printJson(r);
        else println(formatGc(r));
      });
    });
}

function formatStat(d: TaskDiff): string {
  const lines = d.files.map(
    (f) => `${f.added === null ? '  bin' : `+${f.added} -${f.removed}`.padEnd(12)} ${f.path}`,
  );
  const head = `${d.run ? `run ${d.run}` : d.task} ${d.branch} vs ${d.base} (${d.from.slice(0, 12)}..${d.to.slice(0, 12)})`;
  return [head, ...lines, `${d.files.length} file${d.files.length === 1 ? '' : 's'} changed`].join(
    '\n',
  );
}

function formatGc(r: GcReport): string {
  const verb = r.dryRun ? 'would remove' : 'removed';
  const lines = r.removed.map(
    (i) =>
      `${verb} ${i.kind === 'worktree' ? 'worktree' : 'run dir '} ${i.id} (${i.task}) ${formatBytes(i.bytes)}  ${i.path}`,
  );
  for (const s of r.skipped) lines.push(`kept ${s.id}: ${s.reason}  ${s.path}`);
  lines.push(`${r.dryRun ? 'would free' : 'freed'} ${formatBytes(r.bytesFreed)}`);
  const rows = Object.entries(r.rows)
    .map(([table, n]) => `${table} ${n}`)
    .join(', ');
  const runs = `${r.outputRemoved} run${r.outputRemoved === 1 ? '' : 's'}`;
  lines.push(
    r.dryRun
      ? `would prune rows: ${rows}; would remove the output of ${runs}`
      : `pruned rows: ${rows}; removed the output of ${runs}`,
  );
  if (r.space) {
    const s = r.space;
    lines.push(
      `database: ${s.mode} (${s.reason})${s.bytesBefore > 0 ? `, ${formatBytes(s.bytesBefore)} -> ${formatBytes(s.bytesAfter)} in ${s.ms} ms` : ''}`,
    );
  }
  return lines.join('\n');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}
