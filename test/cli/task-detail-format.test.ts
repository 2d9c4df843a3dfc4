/** `task show`'s error summary: the cause first, then the tail's decisive last line. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { summaryEnds } from '../../src/cli/task-detail-format.js';

test('an error summary keeps its first and last lines and counts the middle', () => {
  const summary = [
    'exit 1 (failed): the agent exited with an error',
    'stderr:',
    '  at step 1',
    '  at step 2',
    '',
    'Error: ENOSPC: no space left on device',
  ].join('\n');
  assert.deepEqual(summaryEnds(summary), [
    'exit 1 (failed): the agent exited with an error',
    '… 3 more lines',
    'Error: ENOSPC: no space left on device',
  ]);
  assert.deepEqual(summaryEnds('one line'), ['one line']);
  assert.deepEqual(summaryEnds('cause\nlast'), ['cause', 'last']);
  assert.deepEqual(summaryEnds('cause\nmiddle\nlast'), ['cause', '… 1 more line', 'last']);
});
