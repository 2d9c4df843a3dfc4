import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { syncHeartbeats } from '../../src/app/heartbeat.js';
import { type ApiBoard, apiBoard } from '../support/api.js';
import { FakeClock, testConfig } from '../support/board.js';

/** The schedule routes through inject(): each route and its error paths. */
describe('HTTP API: schedules', () => {
  let api: ApiBoard;
  before(async () => {
    const agents = {
      bot: { kind: 'command', command: 'true', heartbeat: { cron: '0 * * * *' } },
      helper: { kind: 'command', command: 'true' },
    };
    api = await apiBoard({ clock: new FakeClock(), config: testConfig({ agents }) });
    await syncHeartbeats(api.app);
  });
  after(() => api.close());

  const call: ApiBoard['call'] = (method, url, payload) => api.call(method, url, payload);

  it('lists the heartbeat, creates, reads and deletes a schedule', async () => {
    const listed = await call('GET', '/api/v1/schedules');
    assert.equal(listed.statusCode, 200);
    const [hb] = listed.json().items;
    assert.equal(hb.heartbeat, true);
    assert.equal(hb.agent, 'bot');
    assert.equal(hb.task, 'T-1');
    assert.equal(hb.nextTickAt, '2030-01-01T01:00:00.000Z');

    const created = await call('POST', '/api/v1/schedules', {
      cron: '30 8 * * 1-5',
      agent: 'helper',
      prompt: 'Check the nightly build',
      catchUp: 'skip',
      overlap: 'queue',
      catchUpWindowMs: 3_600_000,
      timezone: 'Europe/Paris',
    });
    assert.equal(created.statusCode, 201, created.body);
    const s = created.json();
    assert.equal(s.id, 'S-2');
    assert.equal(s.nextTickAt, '2030-01-01T07:30:00.000Z');
    assert.deepEqual(s.ticks, { run: 0, skipped: 0, waiting: 0, idle: 0 });

    const got = await call('GET', '/api/v1/schedules/S-2');
    assert.equal(got.statusCode, 200);
    assert.equal(got.json().prompt, 'Check the nightly build');

    const deleted = await call('DELETE', '/api/v1/schedules/2');
    assert.equal(deleted.statusCode, 200);
    assert.deepEqual(deleted.json(), { id: 'S-2', deleted: true });
    const again = await call('DELETE', '/api/v1/schedules/S-2');
    assert.equal(again.statusCode, 404);
    assert.equal(again.json().error.code, 'not_found');
    assert.equal((await call('GET', '/api/v1/schedules')).json().items.length, 1);
  });

  it('refuses bad input with the field named, and the heartbeat delete with 409', async () => {
    const cases: [unknown, number, string, RegExp][] = [
      [
        { cron: '0 9 * *', agent: 'bot', prompt: 'x' },
        400,
        'invalid_input',
        /"0 9 \* \*" is not a valid cron/,
      ],
      [
        { cron: '0 9 * * *', agent: 'ghost', prompt: 'x' },
        400,
        'invalid_input',
        /agent "ghost" is not configured/,
      ],
      [{ cron: '0 9 * * *', agent: 'bot' }, 400, 'invalid_request', /^body\.prompt: /],
      [
        { cron: '0 9 * * *', agent: 'bot', prompt: 'x', overlap: 'maybe' },
        400,
        'invalid_request',
        /^body\.overlap: /,
      ],
      [
        { cron: '0 9 * * *', agent: 'bot', prompt: 'x', every: 1 },
        400,
        'invalid_request',
        /^body\.every: /,
      ],
      [
        { cron: '0 9 * * *', agent: 'bot', prompt: 'x', task: 'T-77' },
        404,
        'not_found',
        /task T-77 not found/,
      ],
    ];
    for (const [body, status, code, message] of cases) {
      const r = await call('POST', '/api/v1/schedules', body);
      assert.equal(r.statusCode, status, r.body);
      assert.equal(r.json().error.code, code);
      assert.match(r.json().error.message, message);
    }
    const bad = await call('GET', '/api/v1/schedules/X-1');
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.code, 'invalid_request');
    const hb = await call('DELETE', '/api/v1/schedules/S-1');
    assert.equal(hb.statusCode, 409);
    assert.equal(hb.json().error.code, 'schedule_heartbeat');
    assert.equal(
      (await call('GET', '/api/v1/schedules')).json().items.length,
      1,
      'nothing changed',
    );
  });

  it('is documented in /openapi.json', async () => {
    const doc = (await call('GET', '/openapi.json')).json();
    assert.ok(doc.paths['/api/v1/schedules']?.get);
    assert.ok(doc.paths['/api/v1/schedules']?.post);
    assert.ok(doc.paths['/api/v1/schedules/{id}']?.delete);
  });
});
