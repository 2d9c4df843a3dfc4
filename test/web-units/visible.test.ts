import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { extraInputFields } from '../../web/src/lib/tool-input.js';
import { hasHidden, visibleSegments, visibleText } from '../../web/src/lib/visible.js';

describe('invisible characters made visible', () => {
  it('leaves ordinary text, newlines and tabs alone', () => {
    const text = 'npm test\n\techo "héllo" → 日本 ✓';
    assert.equal(visibleText(text), text);
    assert.deepEqual(visibleSegments(text), [{ text }]);
    assert.equal(hasHidden(text), false);
    assert.deepEqual(visibleSegments(''), [{ text: '' }]);
  });

  it('marks a right-to-left override that would disguise a command', () => {
    const cmd = 'echo safe #\u202E; rm -rf ~ \u202C';
    assert.equal(visibleText(cmd), 'echo safe #⟨U+202E⟩; rm -rf ~ ⟨U+202C⟩');
    assert.deepEqual(visibleSegments(cmd), [
      { text: 'echo safe #' },
      { text: '\u202E', hidden: 'U+202E' },
      { text: '; rm -rf ~ ' },
      { text: '\u202C', hidden: 'U+202C' },
    ]);
    assert.equal(hasHidden(cmd), true);
  });

  it('marks control, zero-width, bidi isolate, BOM and tag characters', () => {
    const cases: [string, string][] = [
      ['a\rb', 'a⟨U+000D⟩b'],
      ['\u001b[2Jcleared', '⟨U+001B⟩[2Jcleared'],
      ['a\u0000b\u007f', 'a⟨U+0000⟩b⟨U+007F⟩'],
      ['rm\u200B -rf', 'rm⟨U+200B⟩ -rf'],
      ['x\u200D\u200E\u200F', 'x⟨U+200D⟩⟨U+200E⟩⟨U+200F⟩'],
      ['\u2066a\u2069', '⟨U+2066⟩a⟨U+2069⟩'],
      ['\uFEFFfile', '⟨U+FEFF⟩file'],
      ['soft\u00ADhyphen', 'soft⟨U+00AD⟩hyphen'],
      ['line\u2028sep', 'line⟨U+2028⟩sep'],
      ['tag\u{E0041}\u{E0042}', 'tag⟨U+E0041⟩⟨U+E0042⟩'],
      ['c\u0085d', 'c⟨U+0085⟩d'],
    ];
    for (const [raw, shown] of cases) assert.equal(visibleText(raw), shown, JSON.stringify(raw));
  });
});

describe('the tool input an approval subject does not show', () => {
  it("lists Bash's other fields, not its command or description", () => {
    assert.deepEqual(
      extraInputFields('command', {
        command: 'npm test',
        description: 'Run the tests',
        run_in_background: true,
        timeout: 600000,
        dangerouslyDisableSandbox: true,
      }),
      [
        { key: 'run_in_background', value: 'true' },
        { key: 'timeout', value: '600000' },
        { key: 'dangerouslyDisableSandbox', value: 'true' },
      ],
    );
    assert.deepEqual(extraInputFields('command', { command: 'ls' }), []);
  });

  it("flags an Edit's replace_all: true, and shows only what the diff does not", () => {
    assert.deepEqual(
      extraInputFields('edit', {
        file_path: '/w/a.ts',
        old_string: 'a',
        new_string: 'b',
        replace_all: true,
      }),
      [
        {
          key: 'replace_all',
          value: 'true',
          warning: 'every occurrence is replaced, not only the one shown',
        },
      ],
    );
    assert.deepEqual(
      extraInputFields('edit', {
        file_path: 'a',
        old_string: 'a',
        new_string: 'b',
        replace_all: false,
      }),
      [{ key: 'replace_all', value: 'false' }],
    );
    assert.deepEqual(extraInputFields('edit', { file_path: 'a', edits: [], content: 'x' }), []);
    assert.deepEqual(extraInputFields('edit', { file_path: 'a', extra: { n: 1 }, gone: null }), [
      { key: 'extra', value: '{"n":1}' },
      { key: 'gone', value: 'null' },
    ]);
  });
});
