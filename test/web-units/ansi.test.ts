import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ansiSegments, isPlain } from '../../web/src/lib/ansi.js';

const E = '\u001b';

describe('ANSI output', () => {
  it('keeps plain text as one plain segment', () => {
    const { segments, end } = ansiSegments('hello world');
    assert.deepEqual(segments, [{ text: 'hello world', style: {} }]);
    assert.ok(isPlain(end));
  });

  it('turns SGR codes into styles and resets them', () => {
    const { segments, end } = ansiSegments(`a${E}[1;31mbold red${E}[0mplain`);
    assert.deepEqual(
      segments.map((s) => s.text),
      ['a', 'bold red', 'plain'],
    );
    assert.deepEqual(segments[1]?.style, { bold: true, fg: 'var(--ansi-red)' });
    assert.ok(isPlain(segments[2]?.style ?? { bold: true }));
    assert.ok(isPlain(end));
  });

  it('reads 256-colour and true-colour codes', () => {
    const { segments } = ansiSegments(`${E}[38;5;196mx${E}[48;2;1;2;3my${E}[38;5;244mz`);
    assert.equal(segments[0]?.style.fg, 'rgb(255,0,0)');
    assert.equal(segments[1]?.style.bg, 'rgb(1,2,3)');
    assert.equal(segments[2]?.style.fg, 'rgb(128,128,128)');
    assert.equal(segments[2]?.style.bg, 'rgb(1,2,3)');
  });

  it('carries a style over to the next line', () => {
    const first = ansiSegments(`${E}[32mgreen`);
    const second = ansiSegments('still green', first.end);
    assert.equal(second.segments[0]?.style.fg, 'var(--ansi-green)');
    assert.equal(ansiSegments(`${E}[39mdefault`, first.end).segments[0]?.style.fg, undefined);
  });

  it('drops every other escape: cursor moves, titles, charsets, carriage returns', () => {
    const hostile = `${E}[2K${E}[1A${E}]0;evil title\u0007${E}(Bprogress\r 100%${E}]8;;http://x${E}\\`;
    const text = ansiSegments(hostile)
      .segments.map((s) => s.text)
      .join('');
    assert.equal(text, 'progress 100%');
    assert.ok(!text.includes(E));
  });

  it('survives codes that make no sense', () => {
    const { segments } = ansiSegments(`${E}[38;5mA${E}[38;2;999mB${E}[;;mC${E}[99999mD`);
    assert.equal(segments.map((s) => s.text).join(''), 'ABCD');
  });
});
