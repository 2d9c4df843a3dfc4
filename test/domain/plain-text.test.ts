import assert from 'node:assert/strict';
import { test } from 'node:test';
import { plainLine, plainTail, stripAnsi } from '../../src/domain/plain-text.js';

const ESC = '\u001b';

test('stripAnsi removes colour, cursor and title sequences and stray control characters, keeping tabs and newlines', () => {
  assert.equal(
    stripAnsi(`${ESC}[32m✔${ESC}[0m done${ESC}]0;title\u0007\tok\n${ESC}[2Knext\u0008`),
    '✔ done\tok\nnext',
  );
});

test('plainLine: one line, no escape codes, no stack frames, cut with an ellipsis', () => {
  const trace = `${ESC}[31mError: Invalid API key${ESC}[0m\n    at request (/app/cli.js:10:5)\n    at async Promise.all (index 0)\n    at node:internal/process/task_queues:95:5`;
  assert.equal(plainLine(trace), 'Error: Invalid API key');
  assert.equal(plainLine('a\n\n  b   c\n'), 'a b c');
  assert.equal(plainLine('x'.repeat(20), 10), `${'x'.repeat(9)}…`);
});

test('plainTail keeps the lines a person reads and drops a stack with the object Node dumps after it', () => {
  const stderr = [
    'YOLO mode is enabled.',
    'Error when talking to Gemini API TypeError: terminated',
    '    at TCP.callbackTrampoline (node:internal/async_hooks:130:17) {',
    '  [cause]: SocketError: other side closed',
    '      at process.processTicksAndRejections (node:internal/process/task_queues:82:21) {',
    "    code: 'UND_ERR_SOCKET',",
    '    socket: {',
    "      localAddress: '127.0.0.1',",
    '    }',
    '  }',
    '}',
    `${ESC}[33mRetrying…${ESC}[0m`,
  ].join('\n');
  assert.equal(
    plainTail(stderr),
    'YOLO mode is enabled.\nError when talking to Gemini API TypeError: terminated\nRetrying…',
  );
  // Indented lines that are not part of a stack stay.
  assert.equal(plainTail('usage:\n  --flag  does x\n'), 'usage:\n  --flag  does x');
});
