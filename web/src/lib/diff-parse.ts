/**
 * A unified patch as `git diff -M` prints it, parsed into files, hunks and
 * lines with their old and new line numbers: what the Review tab draws and
 * comments on. Pure: no DOM, no React (unit-tested under Node).
 */

export type LineKind = 'context' | 'add' | 'del';

export interface DiffLine {
  kind: LineKind;
  /** The line's text, without its +/-/space marker. */
  text: string;
  /** Its number in the base's file; null for an added line. */
  oldNo: number | null;
  /** Its number in the branch's file; null for a removed line. */
  newNo: number | null;
  /** The patch said "\ No newline at end of file" after this line. */
  noNewline: boolean;
}

export interface Hunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  /** The function or section git names after the second @@, if any. */
  section: string;
  lines: DiffLine[];
}

export type FileStatus = 'modified' | 'added' | 'deleted' | 'renamed';

export interface DiffFile {
  /** The base's name; null for a new file. */
  oldPath: string | null;
  /** The branch's name; null for a deleted file. */
  newPath: string | null;
  /** The name to show and comment on: the new one, or the old for a deletion. */
  path: string;
  status: FileStatus;
  binary: boolean;
  /** A mode change, e.g. "100644 → 100755". */
  modeChange: string | null;
  hunks: Hunk[];
  added: number;
  removed: number;
}

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@ ?(.*)$/;

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', '"': '"', '\\': '\\', a: '\x07' };

/** A path as git prints it: C-quoted ("a/x\303\251") when it has unusual bytes. */
export function unquotePath(raw: string): string {
  if (!raw.startsWith('"') || !raw.endsWith('"') || raw.length < 2) return raw;
  const bytes: number[] = [];
  const body = raw.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c !== '\\') {
      for (const b of new TextEncoder().encode(c)) bytes.push(b);
      continue;
    }
    const next = body[i + 1] ?? '';
    if (/[0-7]/.test(next)) {
      bytes.push(Number.parseInt(body.slice(i + 1, i + 4), 8));
      i += 3;
    } else {
      for (const b of new TextEncoder().encode(ESCAPES[next] ?? next)) bytes.push(b);
      i += 1;
    }
  }
  return new TextDecoder().decode(new Uint8Array(bytes));
}

/** `a/x` → `x`; `/dev/null` → null. */
function side(raw: string): string | null {
  const p = unquotePath(raw.replace(/\t$/, ''));
  if (p === '/dev/null') return null;
  return p.replace(/^[ab]\//, '');
}

/** The two names of `diff --git a/x b/y`, when they can be told apart (same name, or quoted). */
function headerPaths(rest: string): [string, string] | null {
  const quoted = /^("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)$/.exec(rest);
  if (quoted?.[1] && quoted[2]) return [side(quoted[1]) ?? '', side(quoted[2]) ?? ''];
  // Unquoted names with spaces: "a/p q b/p q" splits in the middle when both halves match.
  const half = (rest.length - 1) / 2;
  if (Number.isInteger(half) && rest.slice(2, half) === rest.slice(half + 3)) {
    const p = rest.slice(2, half);
    return [p, p];
  }
  return null;
}

function newFile(rest: string): DiffFile {
  const names = headerPaths(rest);
  return {
    oldPath: names?.[0] ?? null,
    newPath: names?.[1] ?? null,
    path: names?.[1] ?? '',
    status: 'modified',
    binary: false,
    modeChange: null,
    hunks: [],
    added: 0,
    removed: 0,
  };
}

function finish(f: DiffFile): DiffFile {
  if (f.status === 'added') f.oldPath = null;
  if (f.status === 'deleted') f.newPath = null;
  f.path = f.newPath ?? f.oldPath ?? f.path;
  return f;
}

/** Parses a whole patch; text outside any file (there is none from git) is skipped. */
export function parsePatch(patch: string): DiffFile[] {
  const files: DiffFile[] = [];
  let file: DiffFile | null = null;
  let hunk: Hunk | null = null;
  let oldNo = 0;
  let newNo = 0;
  let oldLeft = 0;
  let newLeft = 0;
  let last: DiffLine | null = null;
  let oldMode = '';
  const lines = patch.split('\n');
  // A patch ends with a newline: the empty string after it is no line.
  if (lines[lines.length - 1] === '') lines.pop();
  for (const line of lines) {
    if (line.startsWith('diff --git ')) {
      if (file) files.push(finish(file));
      file = newFile(line.slice('diff --git '.length));
      hunk = null;
      last = null;
      continue;
    }
    if (!file) continue;
    if (line.startsWith('\\')) {
      // "\ No newline at end of file": about the line just before it.
      if (last) last.noNewline = true;
      continue;
    }
    if (hunk && (oldLeft > 0 || newLeft > 0)) {
      const c = line[0];
      const text = line.slice(1);
      let l: DiffLine | null = null;
      if ((c === ' ' || line === '') && oldLeft > 0 && newLeft > 0) {
        l = { kind: 'context', text, oldNo: oldNo++, newNo: newNo++, noNewline: false };
        oldLeft--;
        newLeft--;
      } else if (c === '-' && oldLeft > 0) {
        l = { kind: 'del', text, oldNo: oldNo++, newNo: null, noNewline: false };
        oldLeft--;
        file.removed++;
      } else if (c === '+' && newLeft > 0) {
        l = { kind: 'add', text, oldNo: null, newNo: newNo++, noNewline: false };
        newLeft--;
        file.added++;
      }
      if (l) {
        hunk.lines.push(l);
        last = l;
        continue;
      }
    }
    const h = HUNK.exec(line);
    if (h) {
      oldNo = Number(h[1]);
      newNo = Number(h[3]);
      hunk = {
        oldStart: oldNo,
        oldLines: h[2] === undefined ? 1 : Number(h[2]),
        newStart: newNo,
        newLines: h[4] === undefined ? 1 : Number(h[4]),
        section: h[5] ?? '',
        lines: [],
      };
      oldLeft = hunk.oldLines;
      newLeft = hunk.newLines;
      last = null;
      file.hunks.push(hunk);
      continue;
    }
    hunk = null;
    last = null;
    header(
      file,
      line,
      (m) => {
        oldMode = m;
      },
      oldMode,
    );
  }
  if (file) files.push(finish(file));
  return files;
}

/** One extended header line of a file (before its first hunk). */
function header(f: DiffFile, line: string, setOldMode: (m: string) => void, oldMode: string): void {
  const after = (prefix: string) => line.slice(prefix.length);
  if (line.startsWith('new file mode')) f.status = 'added';
  else if (line.startsWith('deleted file mode')) f.status = 'deleted';
  else if (line.startsWith('rename from ')) {
    f.oldPath = unquotePath(after('rename from '));
    f.status = 'renamed';
  } else if (line.startsWith('rename to ')) {
    f.newPath = unquotePath(after('rename to '));
    f.status = 'renamed';
  } else if (line.startsWith('old mode ')) setOldMode(after('old mode '));
  else if (line.startsWith('new mode ')) f.modeChange = `${oldMode} → ${after('new mode ')}`;
  else if (line.startsWith('--- ')) {
    const p = side(after('--- '));
    if (p !== null) f.oldPath = p;
  } else if (line.startsWith('+++ ')) {
    const p = side(after('+++ '));
    if (p !== null) f.newPath = p;
  } else if (line.startsWith('Binary files ') || line === 'GIT binary patch') {
    f.binary = true;
    const m = /^Binary files (.+) and (.+) differ$/.exec(line);
    if (m?.[1] && m[2]) {
      if (side(m[1]) === null) f.status = 'added';
      if (side(m[2]) === null) f.status = 'deleted';
    }
  }
}

/** A row of the split view: the base's line on the left, the branch's on the right. */
export interface SplitRow {
  left: DiffLine | null;
  right: DiffLine | null;
}

/**
 * Pairs a hunk's lines side by side: context on both sides, and each run of
 * removals beside the run of additions that follows it.
 */
export function splitRows(hunk: Hunk): SplitRow[] {
  const rows: SplitRow[] = [];
  let dels: DiffLine[] = [];
  let adds: DiffLine[] = [];
  const flush = () => {
    for (let i = 0; i < Math.max(dels.length, adds.length); i++) {
      rows.push({ left: dels[i] ?? null, right: adds[i] ?? null });
    }
    dels = [];
    adds = [];
  };
  for (const l of hunk.lines) {
    if (l.kind === 'context') {
      flush();
      rows.push({ left: l, right: l });
    } else if (l.kind === 'del') {
      if (adds.length > 0) flush();
      dels.push(l);
    } else {
      adds.push(l);
    }
  }
  flush();
  return rows;
}

/** Lines changed in a file: what decides whether it starts collapsed. */
export function changedLines(f: DiffFile): number {
  return f.added + f.removed;
}
