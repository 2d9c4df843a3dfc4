import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  changedLines,
  type DiffFile,
  parsePatch,
  splitRows,
  unquotePath,
} from '../../web/src/lib/diff-parse.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'agentboard-diff-parse-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A real repository, two commits, and `git diff -M` between them as the server runs it. */
function gitPatch(before: Record<string, string | Buffer>, change: (dir: string) => void): string {
  const dir = fs.mkdtempSync(path.join(tmp, 'repo-'));
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=U', '-c', 'user.email=u@example.com', ...args], {
      cwd: dir,
      encoding: 'utf8',
    });
  git('init', '--quiet', '--initial-branch=main');
  for (const [name, content] of Object.entries(before))
    fs.writeFileSync(path.join(dir, name), content);
  git('add', '--all');
  git('commit', '--quiet', '-m', 'before');
  change(dir);
  git('add', '--all');
  git('commit', '--quiet', '-m', 'after');
  return git('diff', '--no-color', '--no-ext-diff', '-M', 'HEAD~1', 'HEAD');
}

const byPath = (files: DiffFile[], p: string): DiffFile => {
  const f = files.find((x) => x.path === p);
  assert.ok(f, `no file ${p} in ${files.map((x) => x.path).join(', ')}`);
  return f;
};

describe('parsePatch on what git prints', () => {
  const files = parsePatch(
    gitPatch(
      {
        'a.txt': 'one\ntwo\nthree\n',
        'nonl.txt': 'x\ny',
        'moved.txt': `${Array.from({ length: 20 }, (_, i) => i + 1).join('\n')}\n`,
        'bin.dat': Buffer.from([0, 1, 2]),
        'sp ace é.txt': 'q\n',
      },
      (dir) => {
        fs.writeFileSync(path.join(dir, 'a.txt'), 'one\nTWO\nthree\nfour\n');
        fs.writeFileSync(path.join(dir, 'nonl.txt'), 'x\nz');
        fs.renameSync(path.join(dir, 'moved.txt'), path.join(dir, 'renamed.txt'));
        fs.appendFileSync(path.join(dir, 'renamed.txt'), '21\n');
        fs.writeFileSync(path.join(dir, 'bin.dat'), Buffer.from([0, 9, 9]));
        fs.writeFileSync(path.join(dir, 'new.txt'), 'new\n');
        fs.rmSync(path.join(dir, 'sp ace é.txt'));
      },
    ),
  );

  it('finds every file, once', () => {
    assert.deepEqual(files.map((f) => f.path).sort(), [
      'a.txt',
      'bin.dat',
      'new.txt',
      'nonl.txt',
      'renamed.txt',
      'sp ace é.txt',
    ]);
  });

  it('numbers lines on both sides', () => {
    const f = byPath(files, 'a.txt');
    assert.equal(f.status, 'modified');
    assert.equal(f.hunks.length, 1);
    const lines = f.hunks[0]?.lines.map((l) => [l.kind, l.text, l.oldNo, l.newNo]);
    assert.deepEqual(lines, [
      ['context', 'one', 1, 1],
      ['del', 'two', 2, null],
      ['add', 'TWO', null, 2],
      ['context', 'three', 3, 3],
      ['add', 'four', null, 4],
    ]);
    assert.deepEqual([f.added, f.removed, changedLines(f)], [2, 1, 3]);
  });

  it('keeps a rename’s two names and starts its numbers where the hunk says', () => {
    const f = byPath(files, 'renamed.txt');
    assert.equal(f.status, 'renamed');
    assert.equal(f.oldPath, 'moved.txt');
    assert.equal(f.newPath, 'renamed.txt');
    const added = f.hunks[0]?.lines.find((l) => l.kind === 'add');
    assert.deepEqual([added?.text, added?.newNo], ['21', 21]);
    assert.equal(f.hunks[0]?.lines[0]?.oldNo, 18);
  });

  it('marks a binary file, with no hunks', () => {
    const f = byPath(files, 'bin.dat');
    assert.equal(f.binary, true);
    assert.deepEqual(f.hunks, []);
  });

  it('tells new and deleted files, and unquotes a path git quoted', () => {
    const n = byPath(files, 'new.txt');
    assert.deepEqual([n.status, n.oldPath, n.newPath], ['added', null, 'new.txt']);
    assert.equal(n.hunks[0]?.lines[0]?.newNo, 1);
    const d = byPath(files, 'sp ace é.txt');
    assert.deepEqual([d.status, d.oldPath, d.newPath], ['deleted', 'sp ace é.txt', null]);
    assert.deepEqual(
      d.hunks[0]?.lines.map((l) => [l.kind, l.text, l.oldNo]),
      [['del', 'q', 1]],
    );
  });

  it('marks the line "\\ No newline at end of file" is about, and never makes it a line', () => {
    const f = byPath(files, 'nonl.txt');
    const lines = f.hunks[0]?.lines ?? [];
    assert.deepEqual(
      lines.map((l) => [l.kind, l.text, l.noNewline]),
      [
        ['context', 'x', false],
        ['del', 'y', true],
        ['add', 'z', true],
      ],
    );
  });
});

describe('parsePatch on hostile text', () => {
  it('reads a removed line that looks like a file header as a removed line', () => {
    const patch = [
      'diff --git a/x.md b/x.md',
      '--- a/x.md',
      '+++ b/x.md',
      '@@ -1,2 +1,1 @@',
      '--- a/not-a-file',
      ' kept',
      '',
    ].join('\n');
    const [f] = parsePatch(patch);
    assert.deepEqual(
      f?.hunks[0]?.lines.map((l) => [l.kind, l.text]),
      [
        ['del', '-- a/not-a-file'],
        ['context', 'kept'],
      ],
    );
    assert.equal(f?.path, 'x.md');
  });

  it('takes "@@ -5 +5 @@" as one line each side, and keeps the section name', () => {
    const [f] = parsePatch(
      'diff --git a/f.ts b/f.ts\n--- a/f.ts\n+++ b/f.ts\n@@ -5 +5 @@ function main() {\n-a\n+b\n',
    );
    const h = f?.hunks[0];
    assert.deepEqual([h?.oldLines, h?.newLines, h?.section], [1, 1, 'function main() {']);
    assert.deepEqual(
      h?.lines.map((l) => [l.oldNo, l.newNo]),
      [
        [5, null],
        [null, 5],
      ],
    );
  });

  it('gives an empty patch no files, and ignores text before the first file', () => {
    assert.deepEqual(parsePatch(''), []);
    assert.deepEqual(parsePatch('warning: something\n'), []);
  });

  it('names a file from an unquoted header with spaces when nothing else does (a mode change)', () => {
    const [f] = parsePatch(
      'diff --git a/my file.sh b/my file.sh\nold mode 100644\nnew mode 100755\n',
    );
    assert.equal(f?.path, 'my file.sh');
    assert.equal(f?.modeChange, '100644 → 100755');
  });

  it('unquotes C-quoted paths, octal bytes as UTF-8', () => {
    assert.equal(unquotePath('"a/\\303\\251t\\303\\251.txt"'), 'a/été.txt');
    assert.equal(unquotePath('"tab\\there \\"q\\""'), 'tab\there "q"');
    assert.equal(unquotePath('plain'), 'plain');
  });

  it('numbers every line of any hunk consistently with its header (property)', () => {
    const line = fc.record({
      kind: fc.constantFrom(' ', '-', '+'),
      text: fc.string({ maxLength: 8 }).filter((s) => !s.includes('\n')),
    });
    fc.assert(
      fc.property(fc.array(line, { minLength: 1, maxLength: 30 }), fc.nat(500), (ls, start) => {
        const oldN = ls.filter((l) => l.kind !== '+').length;
        const newN = ls.filter((l) => l.kind !== '-').length;
        const body = ls.map((l) => `${l.kind}${l.text}`).join('\n');
        const patch = `diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -${start + 1},${oldN} +${start + 1},${newN} @@\n${body}\n`;
        const [f] = parsePatch(patch);
        const got = f?.hunks[0]?.lines ?? [];
        assert.equal(got.length, ls.length);
        assert.deepEqual(
          got.filter((l) => l.oldNo !== null).map((l) => l.oldNo),
          Array.from({ length: oldN }, (_, i) => start + 1 + i),
        );
        assert.deepEqual(
          got.filter((l) => l.newNo !== null).map((l) => l.newNo),
          Array.from({ length: newN }, (_, i) => start + 1 + i),
        );
        assert.deepEqual(
          got.map((l) => l.text),
          ls.map((l) => l.text),
        );
      }),
    );
  });
});

describe('splitRows', () => {
  it('puts removals beside the additions that follow them, context on both sides', () => {
    const [f] = parsePatch(
      'diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,4 +1,3 @@\n a\n-b\n-c\n+B\n d\n',
    );
    const hunk = f?.hunks[0];
    assert.ok(hunk);
    const rows = splitRows(hunk).map((r) => [r.left?.text ?? null, r.right?.text ?? null]);
    assert.deepEqual(rows, [
      ['a', 'a'],
      ['b', 'B'],
      ['c', null],
      ['d', 'd'],
    ]);
  });

  it('leaves no line out and shows none twice except context', () => {
    const [f] = parsePatch(
      'diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,2 +1,4 @@\n+x\n-y\n+z\n a\n+w\n',
    );
    const hunk = f?.hunks[0];
    assert.ok(hunk);
    const rows = splitRows(hunk);
    const left = rows.flatMap((r) => (r.left ? [r.left] : []));
    const right = rows.flatMap((r) => (r.right ? [r.right] : []));
    assert.deepEqual(
      left.map((l) => l.text),
      ['y', 'a'],
    );
    assert.deepEqual(
      right.map((l) => l.text),
      ['x', 'z', 'a', 'w'],
    );
  });
});
