import type { Command } from 'commander';
import { openPullRequest, pushTask } from '../../app/publish.js';
import {
  addReviewComment,
  deleteReviewComment,
  submitReview,
  taskReview,
} from '../../app/review.js';
import type { ReviewCommentView, TaskReview } from '../../contract/review.js';
import { UsageError } from '../../domain/errors.js';
import { parseTaskId } from '../../domain/ids.js';
import { positiveInt } from '../args.js';
import { printJson, println } from '../output.js';
import { withApp } from '../with-app.js';
import { defaultAuthor } from './bus.js';

/** Review of a task's branch (line comments, request changes, approve), push and pull request. */
export function registerReviews(program: Command): void {
  const review = program
    .command('review')
    .argument('<task>', 'the task, e.g. T-3')
    .description(
      "a task's draft review comments and past reviews; `review comment` adds one, `review uncomment` deletes a draft, `review submit` sends them",
    )
    .option('--json', 'print JSON')
    .action(async (task: string, f) => {
      const r = await withApp((app) => taskReview(app, parseTaskId(task)));
      if (f.json) printJson(r);
      else println(formatReview(r));
    });

  review
    .command('comment <task>')
    .description("add a draft comment on a line of the task's diff (`agentboard diff T-n`)")
    .requiredOption('--file <path>', 'the file, as the diff names it')
    .requiredOption('--line <n>', 'the line number on that side of the diff', positiveInt('line'))
    .option('--side <side>', 'new (added or unchanged line) or old (a removed line)', 'new')
    .requiredOption('--body <text>', 'the comment')
    .option('--author <name>', 'who is commenting', defaultAuthor())
    .option('--json', 'print JSON')
    .action(async (task: string, _f, cmd: Command) => {
      // `--json` is also the parent's option, which commander gives the parent: read both.
      const f = cmd.optsWithGlobals();
      if (f.side !== 'new' && f.side !== 'old')
        throw new UsageError(`--side must be new or old, got "${f.side}"`, { field: 'side' });
      const c = await withApp((app) =>
        addReviewComment(app, parseTaskId(task), {
          file: f.file,
          line: f.line,
          side: f.side,
          body: f.body,
          author: f.author,
        }),
      );
      if (f.json) printJson(c);
      else
        println(
          `draft comment ${c.id} on ${c.file}:${c.line}; send it with \`agentboard review submit ${c.task} --request-changes\``,
        );
    });

  review
    .command('uncomment <task> <comment>')
    .description('delete a draft review comment (its number, as `agentboard review T-n` lists it)')
    .option('--json', 'print JSON')
    .action(async (task: string, comment: string, _f, cmd: Command) => {
      const f = cmd.optsWithGlobals();
      const commentId = positiveInt('comment')(comment.replace(/^#/, ''));
      const r = await withApp((app) => deleteReviewComment(app, parseTaskId(task), commentId));
      if (f.json) printJson(r);
      else println(`draft comment ${r.id} deleted`);
    });

  review
    .command('submit <task>')
    .description(
      'send the draft comments as a review: --request-changes resumes the agent with them, --approve moves the card to Done',
    )
    .option('--request-changes', "send the comments back to the task's agent")
    .option('--approve', 'accept the work: the card moves to Done')
    .option('--body <text>', "the review's overall comment", '')
    .option('--author <name>', 'who is reviewing', defaultAuthor())
    .option('--json', 'print JSON')
    .action(async (task: string, _f, cmd: Command) => {
      const f = cmd.optsWithGlobals();
      if (Boolean(f.requestChanges) === Boolean(f.approve))
        throw new UsageError('give one of --request-changes or --approve', { field: 'verdict' });
      const r = await withApp((app) =>
        submitReview(app, parseTaskId(task), {
          verdict: f.approve ? 'approve' : 'request_changes',
          body: f.body,
          author: f.author,
        }),
      );
      if (f.json) printJson(r);
      else if (r.run)
        println(
          `review ${r.review.id} sent (${r.review.comments.length} comment(s)): run ${r.run.id} of ${r.run.agent} queued to address it`,
        );
      else println(`review ${r.review.id}: ${r.task.id} approved, now in ${r.task.status}`);
    });

  program
    .command('push <task>')
    .description("push a task's branch to board.remote")
    .option('--json', 'print JSON')
    .action(async (task: string, f) => {
      const r = await withApp((app) => pushTask(app, parseTaskId(task)));
      if (f.json) printJson(r);
      else println(`${r.task}: pushed ${r.branch} (${r.commit.slice(0, 12)}) to ${r.remote}`);
    });

  program
    .command('pr <task>')
    .description("open a pull request for a task's branch with board.pr_command")
    .option('--json', 'print JSON')
    .action(async (task: string, f) => {
      const r = await withApp((app) => openPullRequest(app, parseTaskId(task)));
      if (f.json) printJson(r);
      else println(`${r.task}: pull request ${r.url}`);
    });
}

function formatComment(c: ReviewCommentView, indent: string): string[] {
  const where = `${c.file}:${c.line}${c.side === 'old' ? ' (old)' : ''}`;
  return [`${indent}#${c.id} ${where} ${c.author}: ${c.body}`, `${indent}    > ${c.quote}`];
}

function formatReview(r: TaskReview): string {
  const lines = [`${r.task}: ${r.draft.length} draft comment(s)`];
  for (const c of r.draft) lines.push(...formatComment(c, '  '));
  if (r.reviews.length === 0) lines.push('no reviews yet');
  for (const v of r.reviews) {
    const run = v.run ? `, run ${v.run}` : '';
    lines.push(`review ${v.id} ${v.verdict} by ${v.author} ${v.createdAt}${run}`);
    if (v.body) lines.push(`  ${v.body}`);
    for (const c of v.comments) lines.push(...formatComment(c, '  '));
  }
  return lines.join('\n');
}
