import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { DENIED_FILE, PERMISSION_DENIAL } from '../support/model-servers/scenarios.js';
import { describeRun, eventTypes, KINDS, openBoard, RESTRICTED } from './harness.js';

/**
 * Truthful outcomes (issue 14): a tool use the agent's permission mode refuses is a `denial`
 * event with the tool, is counted on the run, and keeps the card out of Done even when the board
 * would otherwise move a success straight to Done.
 */
for (const kind of KINDS) {
  test(`${kind}: a refused shell command is a denial event, counted on the run, and the card is never Done`, async (t) => {
    const board = await openBoard(t, {
      kind,
      scenario: PERMISSION_DENIAL[kind],
      agent: { permission_mode: RESTRICTED[kind] },
    });
    // A passing verify command would move a plain success to Done: only the denial keeps it out.
    const id = await board.addTask({ title: 'Write denied.txt', verifyCommand: 'true' });
    const settled = await board.settle(id);
    const [run] = settled.runs;
    assert.ok(run);
    assert.ok(!fs.existsSync(path.join(board.workspace, DENIED_FILE)), 'the command ran');
    const events = await board.events(run.id);
    t.diagnostic(`${kind}: ${describeRun(run)} denials=${run.denials} card=${settled.status}`);
    const denial = events.find((e) => e.type === 'denial');
    assert.ok(denial?.type === 'denial', `no denial event: ${eventTypes(events)}`);
    assert.ok(denial.tool.length > 0, 'the denial does not name the tool');
    assert.ok(run.denials >= 1, `runs.denials = ${run.denials}`);
    assert.notEqual(settled.status, 'done');
  });
}
