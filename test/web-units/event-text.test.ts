import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { EVENT_TYPES } from '../../src/contract/event-types.js';
import {
  describeEvent,
  EVENT_TEXT,
  FEED_EVENT_TYPES,
  IGNORED_EVENT_TYPES,
} from '../../web/src/lib/event-text.js';
import { repoFile } from './repo.js';

describe('the board feed and the contract’s event types', () => {
  it('renders or explicitly ignores every contract event type, never both', () => {
    for (const t of EVENT_TYPES) {
      const rendered = Object.hasOwn(EVENT_TEXT, t);
      const ignored = IGNORED_EVENT_TYPES.includes(t);
      assert.ok(rendered !== ignored, `${t}: rendered=${rendered} ignored=${ignored}`);
    }
    // Nothing rendered that the contract does not know (a typo would be a dead entry).
    for (const t of Object.keys(EVENT_TEXT)) {
      assert.ok((EVENT_TYPES as readonly string[]).includes(t), `${t} is not a contract type`);
    }
  });

  it('subscribes to exactly the rendered types', () => {
    const rendered = EVENT_TYPES.filter((t) => !IGNORED_EVENT_TYPES.includes(t));
    assert.deepEqual([...FEED_EVENT_TYPES].sort(), [...rendered].sort());
    assert.ok(FEED_EVENT_TYPES.some((t) => t.startsWith('schedule.')));
    assert.ok(FEED_EVENT_TYPES.some((t) => t.startsWith('workspace.')));
  });

  it('the feed listens from that list, not a copy of its own', () => {
    const src = fs.readFileSync(repoFile('web/src/feed.ts'), 'utf8');
    assert.match(src, /for \(const t of FEED_EVENT_TYPES\) es\.addEventListener\(t, onEvent\)/);
    for (const t of EVENT_TYPES) {
      assert.ok(!src.includes(`'${t}'`), `web/src/feed.ts names ${t} itself`);
    }
  });

  it('says something for each type, whatever the payload holds', () => {
    const hostile = [
      {},
      null,
      { title: 42, from: null, to: ['x'], author: {}, ticks: 'many', exitCode: '1' },
    ];
    for (const t of EVENT_TYPES) {
      for (const d of hostile) {
        const text = describeEvent(t, d as Record<string, unknown> | null);
        assert.equal(typeof text, 'string');
        assert.ok(text.length > 0, `${t} said nothing`);
        assert.ok(!text.includes('undefined') && !text.includes('[object'), `${t}: ${text}`);
      }
    }
  });

  it('names the details an event carries', () => {
    assert.equal(
      describeEvent('task.moved', { from: 'in_progress', to: 'review' }),
      'moved in progress → review',
    );
    assert.equal(
      describeEvent('schedule.ticked', { scheduleId: 'S-3', ticks: [{}, {}] }),
      'schedule S-3 ticked 2 times',
    );
    assert.equal(
      describeEvent('workspace.merged', { branch: 'agentboard/T-1', base: 'main' }),
      'branch agentboard/T-1 merged into main',
    );
    assert.equal(
      describeEvent('run.finished', { state: 'failed', exitCode: 2 }),
      'run finished: failed (exit 2)',
    );
    // The message itself, not only who sent it.
    assert.equal(
      describeEvent('message.posted', {
        author: 'parent',
        type: 'DECISION',
        preview: 'use the v2 API',
      }),
      'message from parent (DECISION): use the v2 API',
    );
    assert.equal(
      describeEvent('approval.decided', { tool: 'Bash', state: 'denied', by: 'ana' }),
      'Bash denied by ana',
    );
  });

  it('shows a type from a newer server as its name', () => {
    assert.equal(describeEvent('board.renamed_twice', {}), 'board renamed twice');
  });
});
