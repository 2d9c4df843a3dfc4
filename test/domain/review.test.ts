/** The pure parts of a review: a line of a unified diff, and the prompt sent back to the agent. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffLine, reviewPrompt } from '../../src/domain/review.js';

const PATCH = [
  'diff --git a/a.txt b/a.txt',
  'index 1..2 100644',
  '--- a/a.txt',
  '+++ b/a.txt',
  '@@ -1,3 +1,3 @@',
  ' same',
  '-old two',
  '+new two',
  ' three',
  '\\ No newline at end of file',
  'diff --git a/b.ts b/b.ts',
  'new file mode 100644',
  '--- /dev/null',
  '+++ b/b.ts',
  '@@ -0,0 +1,2 @@',
  '+export const x = 1;',
  '+export const y = 2;',
  '',
].join('\n');

describe('diffLine', () => {
  it('finds a line by file, side and number', () => {
    assert.equal(diffLine(PATCH, 0, 'new', 1), 'same');
    assert.equal(diffLine(PATCH, 0, 'old', 1), 'same');
    assert.equal(diffLine(PATCH, 0, 'new', 2), 'new two');
    assert.equal(diffLine(PATCH, 0, 'old', 2), 'old two');
    assert.equal(diffLine(PATCH, 0, 'new', 3), 'three');
    assert.equal(diffLine(PATCH, 1, 'new', 2), 'export const y = 2;');
  });

  it('refuses lines the diff does not show, and the no-newline marker', () => {
    assert.equal(diffLine(PATCH, 0, 'new', 4), undefined);
    assert.equal(diffLine(PATCH, 0, 'new', 0), undefined);
    assert.equal(diffLine(PATCH, 1, 'old', 1), undefined, 'a new file has no old side');
    assert.equal(diffLine(PATCH, 2, 'new', 1), undefined, 'no third file');
    // Lines of another file's section never answer for this one.
    assert.equal(diffLine(PATCH, 1, 'new', 3), undefined);
  });
});

describe('reviewPrompt', () => {
  it('names each comment’s file and line, quotes the code in a fence it cannot close, then the comment', () => {
    const prompt = reviewPrompt(
      {
        task: { id: 7, title: 'Add x' },
        author: 'ana',
        body: 'Nearly there.',
        commit: '0123456789abcdef',
        branch: 'agentboard/T-7-add-x',
      },
      [
        { file: 'b.ts', line: 2, side: 'new', quote: 'const s = ```;', body: 'Why a fence here?' },
        { file: 'a.txt', line: 2, side: 'old', quote: 'old two', body: 'Keep this line.' },
      ],
    );
    assert.match(prompt, /^# Review of T-7: Add x\n/);
    assert.match(
      prompt,
      /ana reviewed your work on branch agentboard\/T-7-add-x \(commit 0123456789ab\)/,
    );
    assert.match(prompt, /Nearly there\./);
    assert.match(
      prompt,
      /## 1\. b\.ts, line 2\n\n````\nconst s = ```;\n````\n\nWhy a fence here\?/,
    );
    assert.match(
      prompt,
      /## 2\. a\.txt, line 2 of the old version \(a removed line\)\n\n```\nold two\n```/,
    );
  });
});
