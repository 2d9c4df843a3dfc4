import type { showTask } from '../app/read-task.js';
import type { TaskTree, TaskTreeNode } from '../app/tree.js';
import { formatDuration } from '../domain/exit.js';
import { columnTitle } from './board-format.js';
import { paint } from './output.js';

type Detail = Awaited<ReturnType<typeof showTask>>;

export function formatTaskDetail(t: Detail, color: boolean, tree?: TaskTree): string {
  const c = paint(color);
  const lines = [
    `${c('bold', t.id)}  ${c('bold', t.title)}`,
    `status    ${columnTitle(t.status)}${t.statusReason ? ` — ${t.statusReason}` : ''}`,
    `priority  ${t.priority}`,
    `agent     ${t.agent ?? '-'}`,
  ];
  if (t.labels.length > 0) lines.push(`labels    ${t.labels.join(', ')}`);
  if (t.parent) lines.push(`parent    ${t.parent}`);
  if (t.dependsOn.length > 0) {
    const waiting = t.waitingOn.length > 0 ? ` (waiting on ${t.waitingOn.join(', ')})` : '';
    lines.push(`depends   ${t.dependsOn.join(', ')}${waiting}`);
  }
  if (t.children.length > 0 && !tree) {
    lines.push(`subtasks  ${t.children.map((ch) => `${ch.id} (${ch.status})`).join(', ')}`);
  }
  if (t.verifyCommand) lines.push(`verify    ${t.verifyCommand}`);
  if (t.loop.enabled) {
    lines.push(
      `loop      up to ${t.loop.maxIterations} iterations, until ${t.loop.doneFile} exists${t.verifyCommand ? ' or verify passes' : ''}`,
    );
  }
  if (t.usage.costUsd > 0 || t.usage.tokensIn > 0) {
    lines.push(
      `usage     ${t.usage.tokensIn} in / ${t.usage.tokensOut} out tokens, $${t.usage.costUsd.toFixed(4)}`,
    );
  }
  if (t.body.trim()) lines.push('', t.body.trimEnd());
  if (t.runs.length > 0) {
    lines.push('', c('bold', `Runs (${t.runs.length})`));
    for (const r of t.runs) {
      const dur = r.durationMs !== null ? formatDuration(r.durationMs) : '';
      const exit = r.exitCode !== null ? `exit ${r.exitCode}` : '';
      lines.push(
        `  ${r.id}  ${r.state.padEnd(9)} ${r.agent.padEnd(8)} attempt ${r.attempt}/${r.maxAttempts}  ${exit} ${dur}`.trimEnd(),
      );
      if (r.errorSummary) lines.push(c('red', `    ${summaryEnds(r.errorSummary).join('\n    ')}`));
    }
  }
  if (tree && tree.root.children.length > 0) {
    lines.push('', c('bold', `Subtasks (${tree.size - 1}${tree.truncated ? '+' : ''})`));
    lines.push(...formatSubtasks(tree.root.children, '  ', c));
  }
  if (t.comments.length > 0) {
    lines.push('', c('bold', `Comments (${t.comments.length})`));
    for (const cm of t.comments)
      lines.push(
        `  ${c('cyan', cm.author)} ${c('dim', cm.createdAt)}`,
        `    ${cm.body.trim().split('\n').join('\n    ')}`,
      );
  }
  return `${lines.join('\n')}\n`;
}

/** Each subtask on one line with its latest run, its own subtasks indented below it. */
function formatSubtasks(
  nodes: TaskTreeNode[],
  indent: string,
  c: ReturnType<typeof paint>,
): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    const last = n.runs.at(-1);
    const runs = last
      ? c(
          'dim',
          `  ${n.runs.length} run${n.runs.length === 1 ? '' : 's'}, last ${last.id} ${last.state}`,
        )
      : '';
    out.push(`${indent}${c('bold', n.id)} ${columnTitle(n.status)}  ${n.title}${runs}`);
    out.push(...formatSubtasks(n.children, `${indent}  `, c));
  }
  return out;
}

/**
 * An error summary's first line (the cause) and its last (a stderr tail's
 * decisive line, e.g. the exception after its stack): what the middle
 * holds is counted, and `agentboard logs --stderr` shows it whole.
 */
export function summaryEnds(summary: string): string[] {
  const rows = summary.split('\n').filter((l) => l.trim() !== '');
  if (rows.length <= 2) return rows;
  const hidden = rows.length - 2;
  return [
    rows[0] as string,
    `… ${hidden} more line${hidden === 1 ? '' : 's'}`,
    rows[rows.length - 1] as string,
  ];
}
