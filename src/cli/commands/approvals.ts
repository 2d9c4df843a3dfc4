import type { Command } from 'commander';
import type { ApprovalView } from '../../contract/approvals.js';
import { UsageError } from '../../domain/errors.js';
import { formatDuration } from '../../domain/exit.js';
import { parseTaskId } from '../../domain/ids.js';
import { withBoard } from '../board.js';
import { paint, printJson, println, truncate, useColor } from '../output.js';
import { defaultAuthor } from './bus.js';

/** `A-12` or `12` → 12. */
function approvalId(text: string): number {
  const m = /^(?:A-?)?([1-9][0-9]{0,15})$/i.exec(text.trim());
  if (!m?.[1]) throw new UsageError(`"${text}" is not an approval id: it looks like A-12 or 12`);
  return Number(m[1]);
}

/** Who decides: the person at the terminal (AGENTBOARD_AUTHOR, else the login name). */
function decider(): string {
  return (process.env.AGENTBOARD_AUTHOR || process.env.USER || defaultAuthor()).slice(0, 64);
}

/** What a request asks, in one line: the command, the file, or the tool. */
function what(a: ApprovalView): string {
  const s = a.subject;
  if (s.kind === 'command') return `${a.tool}: ${s.command}`;
  if (s.kind === 'edit') return `${a.tool}: ${s.file}`;
  return a.tool;
}

function formatList(items: ApprovalView[], color: boolean): string {
  if (items.length === 0) return 'no approval requests';
  const c = paint(color);
  return items
    .map((a) => {
      const state = a.state === 'pending' ? c('yellow', 'pending') : a.state;
      const waited = formatDuration(a.waitedMs);
      const by = a.decidedBy ? ` by ${a.decidedBy}` : '';
      return `A-${a.id}  ${a.task}  ${a.agent}  ${state}${by}  ${waited}  ${truncate(what(a).replace(/\s+/g, ' '), 100)}`;
    })
    .join('\n');
}

function formatDecision(a: ApprovalView): string {
  if (a.state === 'allowed')
    return `A-${a.id} allowed (${what(a).replace(/\s+/g, ' ')})${a.rule ? `\nadded the rule ${a.rule} to ${a.task}: its matching tool uses no longer ask (agentboard approve --rule writes another)` : ''}`;
  return `A-${a.id} ${a.state}: the agent is told "${a.message ?? ''}"`;
}

export function registerApprovals(program: Command): void {
  program
    .command('approvals')
    .description('tool uses agents asked a person to decide (pending ones, oldest first)')
    .option('--all', 'every request, decided ones too, newest first')
    .option('--task <id>', 'only this task’s')
    .option('--json', 'print JSON')
    .action(async (f) => {
      const taskId = f.task ? parseTaskId(f.task) : undefined;
      const items = await withBoard((board) =>
        board.listApprovals({
          ...(f.all ? {} : { state: 'pending' as const }),
          ...(taskId !== undefined ? { taskId } : {}),
          limit: 500,
        }),
      );
      if (f.json) printJson(items);
      else println(formatList(items, useColor()));
    });

  program
    .command('approve <id>')
    .description('allow a pending tool use (A-12 or 12); the agent goes on')
    .option('--always', 'also allow matching tool uses on this task from now on (a rule)')
    .option('--rule <rule>', 'the rule to add, e.g. "Bash(npm test:*)" (implies --always)')
    .option('--json', 'print JSON')
    .action(async (id: string, f) => {
      const n = approvalId(id);
      const a = await withBoard((board) =>
        board.allowApproval(n, {
          ...(f.always ? { always: true } : {}),
          ...(f.rule !== undefined ? { rule: String(f.rule) } : {}),
          by: decider(),
        }),
      );
      if (f.json) printJson(a);
      else println(formatDecision(a));
    });

  program
    .command('deny <id>')
    .description('deny a pending tool use (A-12 or 12); the agent receives the message')
    .requiredOption('--message <text>', 'what the agent is told: why, and what to do instead')
    .option('--json', 'print JSON')
    .action(async (id: string, f) => {
      const n = approvalId(id);
      const message = String(f.message);
      if (!message.trim()) throw new UsageError('--message needs text: tell the agent why');
      const a = await withBoard((board) => board.denyApproval(n, { message, by: decider() }));
      if (f.json) printJson(a);
      else println(formatDecision(a));
    });
}
