import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRedactor, isSecretName, streamRedactor } from '../../src/domain/redact.js';

describe('redaction', () => {
  const r = createRedactor(['hunter2-password', 'short', 'pässwörd-ünïcode']);

  it('masks known secrets and credential shapes with as many * as they have bytes', () => {
    const text = 'a hunter2-password b sk-ant-api03-abcdefghijklmnopqrstuv c';
    const out = r.text(text);
    assert.equal(out.length, text.length);
    assert.ok(!out.includes('hunter2-password') && !out.includes('sk-ant-api03'));
    assert.equal(r.text('no secrets here, and short stays'), 'no secrets here, and short stays');
    const bytes = Buffer.from('x pässwörd-ünïcode y', 'utf8');
    const masked = r.bytes(bytes);
    assert.equal(masked.length, bytes.length, 'byte offsets stay true');
    assert.equal(
      masked.toString('utf8'),
      `x ${'*'.repeat(Buffer.byteLength('pässwörd-ünïcode'))} y`,
    );
    assert.equal(
      r.text('Authorization: Bearer abcdefghijklmnopqrstuvwxyz'),
      `Authorization: Bearer ${'*'.repeat(26)}`,
    );
  });

  it('redacts every string inside a JSON value, leaving other values', () => {
    const v = r.value({
      a: ['hunter2-password', 3, null],
      b: { c: 'ok hunter2-password' },
      d: true,
    });
    assert.deepEqual(v, {
      a: ['*'.repeat(16), 3, null],
      b: { c: `ok ${'*'.repeat(16)}` },
      d: true,
    });
  });

  it('holds back only what may be a secret still being written', () => {
    assert.equal(r.holdback(Buffer.from('a finished line\n')), 0);
    assert.equal(r.holdback(Buffer.from('token: hunter2-pa')), 'hunter2-pa'.length);
    assert.equal(r.holdback(Buffer.from('x'.repeat(500))), r.overlap);
  });

  it('knows secret-looking variable names and leaves the rest', () => {
    for (const n of ['ANTHROPIC_API_KEY', 'GITHUB_TOKEN', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD']) {
      assert.ok(isSecretName(n), n);
    }
    for (const n of ['GIT_AUTHOR_NAME', 'KEYBOARD', 'PATH', 'SSH_AUTH_SOCK', 'TOKENIZER_MODE']) {
      assert.ok(!isSecretName(n), n);
    }
  });

  it('masks a secret cut across chunks of a stream, keeping every other byte', () => {
    const text = 'start hunter2-password middle sk-ant-api03-abcdefghijklmnopqrstuv end\nlast';
    const whole = r.text(text);
    for (let cut = 1; cut < text.length; cut += 3) {
      const s = streamRedactor(r);
      const out = Buffer.concat([
        s.push(Buffer.from(text.slice(0, cut))),
        s.push(Buffer.from(text.slice(cut, cut + 7))),
        s.push(Buffer.from(text.slice(cut + 7))),
        s.end(),
      ]).toString();
      assert.equal(out, whole, `cut at ${cut}`);
    }
  });
});
