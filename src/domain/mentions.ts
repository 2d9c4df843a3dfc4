/**
 * `@name` mentions of configured agents in a comment. Pure: the caller passes
 * the agent names. Code (fenced blocks and inline spans) is skipped, so a
 * quoted `@claude` does not start a run, and so are e-mail addresses and
 * names that merely start with an agent's name (`@claude-old`, `me@claude`).
 */

const FENCE = /^( {0,3})(`{3,}|~{3,})/;
// Agent names are lower-case letters, digits, - and _ (config schema); a mention
// is case-insensitive, starts after a non-name character and ends before one.
const MENTION = /(^|[^A-Za-z0-9_.@-])@([A-Za-z][A-Za-z0-9_-]{0,39})(?![A-Za-z0-9_-])/g;

/** The configured agents a comment mentions, in order of first mention, each once. */
export function mentionedAgents(text: string, agents: readonly string[]): string[] {
  const known = new Set(agents);
  const found: string[] = [];
  for (const line of proseLines(text)) {
    for (const m of line.replace(/`[^`]*`/g, ' ').matchAll(MENTION)) {
      const name = (m[2] as string).toLowerCase().replace(/[-_]+$/, '');
      if (known.has(name) && !found.includes(name)) found.push(name);
    }
  }
  return found;
}

/** The lines outside fenced code blocks. */
function proseLines(text: string): string[] {
  const out: string[] = [];
  let fence: string | null = null;
  for (const line of text.split(/\r?\n/)) {
    const open = FENCE.exec(line);
    if (fence !== null) {
      if (open && (open[2] as string)[0] === fence[0] && (open[2] as string).length >= fence.length)
        fence = null;
      continue;
    }
    if (open) {
      fence = open[2] as string;
      continue;
    }
    out.push(line);
  }
  return out;
}
