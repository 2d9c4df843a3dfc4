/**
 * The pure parts of a code review: finding a line in a unified diff, and the
 * prompt a request for changes sends back to the agent.
 */
import { formatTaskId } from './ids.js';

/** A line comment as the prompt quotes it. */
export interface ReviewComment {
  file: string;
  line: number;
  side: 'old' | 'new';
  quote: string;
  body: string;
}

/**
 * The text of line `line` on `side` of file number `index` of a unified
 * diff (git prints the files of the patch and of its file list in the same
 * order); undefined when the diff does not show that line.
 */
export function diffLine(
  patch: string,
  index: number,
  side: 'old' | 'new',
  line: number,
): string | undefined {
  let section = -1;
  let inHunk = false;
  let oldNo = 0;
  let newNo = 0;
  for (const l of patch.split('\n')) {
    if (l.startsWith('diff --git ')) {
      if (section === index) return undefined;
      section++;
      inHunk = false;
      continue;
    }
    if (section !== index) continue;
    const hunk = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@/.exec(l);
    if (hunk) {
      inHunk = true;
      oldNo = Number(hunk[1]);
      newNo = Number(hunk[2]);
      continue;
    }
    if (!inHunk) continue;
    // Content lines start with their mark; `\ No newline at end of file` is not a line.
    const mark = l[0];
    const text = l.slice(1);
    if (mark === ' ' || mark === '-') {
      if (side === 'old' && oldNo === line) return text;
      oldNo++;
    }
    if (mark === ' ' || mark === '+') {
      if (side === 'new' && newNo === line) return text;
      newNo++;
    }
  }
  return undefined;
}

/** A fence longer than any run of backticks in `code`, so quoted code cannot close it. */
function fence(code: string): string {
  const longest = Math.max(2, ...(code.match(/`+/g) ?? []).map((r) => r.length));
  return '`'.repeat(longest + 1);
}

export interface PromptContext {
  task: { id: number; title: string };
  author: string;
  body: string;
  commit: string | null;
  branch: string | undefined;
}

/** The resumed run's prompt: the review's body, then each comment with its file, line and code. */
export function reviewPrompt(p: PromptContext, comments: readonly ReviewComment[]): string {
  const id = formatTaskId(p.task.id);
  const on = p.branch
    ? ` on branch ${p.branch}${p.commit ? ` (commit ${p.commit.slice(0, 12)})` : ''}`
    : '';
  const out = [
    `# Review of ${id}: ${p.task.title}`,
    '',
    `${p.author} reviewed your work${on} and requests changes. Address every point below, in the same worktree, then finish as before.`,
  ];
  if (p.body.trim()) out.push('', p.body.trim());
  comments.forEach((c, i) => {
    const where =
      c.side === 'new' ? `line ${c.line}` : `line ${c.line} of the old version (a removed line)`;
    const f = fence(c.quote);
    out.push('', `## ${i + 1}. ${c.file}, ${where}`, '', f, c.quote, f, '', c.body.trim());
  });
  return `${out.join('\n')}\n`;
}
