import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  highlightLine,
  highlightLines,
  type Lang,
  languageFor,
  type Token,
} from '../../web/src/lib/highlight.js';

const lang = (p: string): Lang => {
  const l = languageFor(p);
  assert.ok(l, `no language for ${p}`);
  return l;
};
const kinds = (tokens: Token[]) => tokens.map((t) => [t.kind, t.text]);
const of = (tokens: Token[], kind: Token['kind']) =>
  tokens.filter((t) => t.kind === kind).map((t) => t.text);

describe('languageFor', () => {
  it('knows common languages by extension, and says so when it does not', () => {
    assert.equal(lang('src/a.ts').name, 'javascript');
    assert.equal(lang('x/y.TSX').name, 'javascript');
    assert.equal(lang('main.py').name, 'python');
    assert.equal(lang('main.go').name, 'go');
    assert.equal(lang('lib.rs').name, 'rust');
    assert.equal(lang('build.sh').name, 'shell');
    assert.equal(lang('Dockerfile').name, 'shell');
    assert.equal(languageFor('README'), null);
    assert.equal(languageFor('notes.txt'), null);
  });
});

describe('highlightLine', () => {
  it('colours keywords, strings, numbers and a line comment in TypeScript', () => {
    const { tokens } = highlightLine('const x = "if" + 42; // return here', lang('a.ts'));
    assert.deepEqual(of(tokens, 'keyword'), ['const']);
    assert.deepEqual(of(tokens, 'string'), ['"if"']);
    assert.deepEqual(of(tokens, 'number'), ['42']);
    assert.deepEqual(of(tokens, 'comment'), ['// return here']);
  });

  it('keeps an escaped quote inside its string, and an unclosed string to the line’s end', () => {
    const l = lang('a.js');
    assert.deepEqual(of(highlightLine(`'it\\'s' + 1`, l).tokens, 'string'), [`'it\\'s'`]);
    assert.deepEqual(of(highlightLine('x = "open', l).tokens, 'string'), ['"open']);
  });

  it('does not take digits inside a name for a number, or a keyword inside a name', () => {
    const { tokens } = highlightLine('value2 = ifx + returned', lang('a.py'));
    assert.deepEqual(of(tokens, 'number'), []);
    assert.deepEqual(of(tokens, 'keyword'), []);
  });

  it('carries a block comment across lines', () => {
    const rows = highlightLines(['a = 1 /* start', 'still comment', 'end */ b = 2'], lang('a.c'));
    assert.deepEqual(kinds(rows[1] ?? []), [['comment', 'still comment']]);
    assert.deepEqual(of(rows[2] ?? [], 'comment'), ['end */']);
    assert.deepEqual(of(rows[2] ?? [], 'number'), ['2']);
  });

  it('reads # as a comment in Python but not inside a shell word', () => {
    assert.deepEqual(of(highlightLine('x = 1  # note', lang('a.py')).tokens, 'comment'), [
      '# note',
    ]);
    assert.deepEqual(of(highlightLine('echo $# a#b', lang('a.sh')).tokens, 'comment'), []);
  });

  it('leaves text of an unknown language plain', () => {
    assert.deepEqual(kinds(highlightLine('if (x) return 1', null).tokens), [
      ['plain', 'if (x) return 1'],
    ]);
  });

  it('never loses or invents text: the tokens joined are the line (property)', () => {
    const langs = [
      'a.ts',
      'a.py',
      'a.go',
      'a.rs',
      'a.c',
      'a.sh',
      'a.rb',
      'a.sql',
      'a.css',
      'a.json',
    ]
      .map(lang)
      .concat([null as unknown as Lang]);
    fc.assert(
      fc.property(
        fc.array(fc.string({ maxLength: 40 }), { maxLength: 6 }),
        fc.integer({ min: 0, max: langs.length - 1 }),
        (lines, k) => {
          const rows = highlightLines(lines, langs[k] ?? null);
          assert.deepEqual(
            rows.map((r) => r.map((t) => t.text).join('')),
            lines,
          );
          for (const r of rows) for (const t of r) assert.ok(t.text.length > 0);
        },
      ),
    );
  });
});
