import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { postMessage, readMessages } from '../../src/app/messages.js';
import { parseTaskId } from '../../src/domain/ids.js';
import { readEvents } from '../../src/store/events.js';
import { type ApiBoard, apiBoard } from '../support/api.js';
import { type BoardLocation, postgresBoard, snapshot, sqliteBoard } from '../support/board.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

const SECRET = 'tok-bus-0123456789-very-secret';

function messageSuite(name: string, location: () => Promise<BoardLocation>): void {
  describe(`HTTP API: messages (${name})`, () => {
    let api: ApiBoard;
    let task: string;
    let other: string;
    let run: string;
    before(async () => {
      api = await apiBoard({ board: await location(), secrets: [SECRET] });
      task = (await call('POST', '/api/v1/tasks', { title: 'bus', status: 'backlog' })).json().id;
      other = (await call('POST', '/api/v1/tasks', { title: 'other', status: 'backlog' })).json()
        .id;
      const r = await call('POST', `/api/v1/tasks/${task}/runs`, { agent: 'bot' });
      assert.equal(r.statusCode, 202, r.body);
      run = r.json().id;
    });
    after(() => api?.close());

    const call: ApiBoard['call'] = (method, url, payload) => api.call(method, url, payload);

    it('posts to the board, a task and a run, and reads them back by cursor', async () => {
      const board = await call('POST', '/api/v1/messages', {
        type: 'DECISION',
        author: 'lead',
        body: 'we use SQLite by default',
      });
      assert.equal(board.statusCode, 201, board.body);
      assert.equal(board.json().taskId, null);
      assert.equal(board.json().author, 'lead');

      const onTask = await call('POST', '/api/v1/messages', {
        taskId: task,
        type: 'progress',
        body: `halfway; key=${SECRET}`,
      });
      assert.equal(onTask.statusCode, 201, onTask.body);
      assert.equal(onTask.json().type, 'PROGRESS');
      assert.equal(onTask.json().author, 'user');
      assert.ok(!onTask.body.includes(SECRET), 'the response is redacted');

      const onRun = await call('POST', '/api/v1/messages', {
        runId: run,
        type: 'QUESTION',
        author: 'bot',
        body: 'which port?',
      });
      assert.equal(onRun.statusCode, 201, onRun.body);
      assert.equal(onRun.json().taskId, task, 'the run implies its task');
      assert.equal(onRun.json().runId, run);
      await call('POST', '/api/v1/messages', { taskId: other, type: 'FACT', body: 'elsewhere' });

      const all = (await call('GET', '/api/v1/messages')).json();
      assert.deepEqual(
        all.items.map((m: { type: string }) => m.type),
        ['DECISION', 'PROGRESS', 'QUESTION', 'FACT'],
      );
      assert.equal(all.more, false);
      assert.ok(!JSON.stringify(all).includes(SECRET));

      const mine = (await call('GET', `/api/v1/messages?task=${task}`)).json();
      assert.deepEqual(
        mine.items.map((m: { body: string }) => m.body.slice(0, 7)),
        ['halfway', 'which p'],
      );

      const first = (await call('GET', '/api/v1/messages?limit=2')).json();
      assert.equal(first.items.length, 2);
      assert.equal(first.more, true);
      const rest = (await call('GET', `/api/v1/messages?after=${first.next}&limit=2`)).json();
      assert.deepEqual(
        rest.items.map((m: { type: string }) => m.type),
        ['QUESTION', 'FACT'],
      );
      const none = (await call('GET', `/api/v1/messages?after=${all.next}`)).json();
      assert.deepEqual(none, { items: [], next: all.next, more: false });
    });

    it('appends message.posted in the same transaction, for the board feed', async () => {
      const m = await postMessage(api.app, {
        taskId: parseTaskId(task),
        type: 'ERROR',
        author: 'bot',
        body: 'x'.repeat(1000),
      });
      const events = await readEvents(api.app.store.db, { after: 0, limit: 1000 });
      const posted = events.filter((e) => e.type === 'message.posted').at(-1);
      assert.ok(posted);
      assert.equal(posted.taskId, parseTaskId(task));
      assert.equal(posted.data.messageId, m.id);
      assert.equal(posted.data.type, 'ERROR');
      assert.equal((posted.data.preview as string).length, 280);
      const page = await readMessages(api.app, { after: m.id - 1, limit: 10 });
      assert.deepEqual(
        page.items.map((x) => x.id),
        [m.id],
      );
    });

    it('refuses bad input with a clear error and changes nothing', async () => {
      const before = await snapshot(api.app);
      const count = async () =>
        (await readMessages(api.app, { after: 0, limit: 1000 })).items.length;
      const messages = await count();
      const cases: [unknown, number, string, string][] = [
        [{ type: 'CHATTER', body: 'hi' }, 400, 'invalid_request', 'body.type'],
        [{ type: 'FACT' }, 400, 'invalid_request', 'body.body'],
        [{ type: 'FACT', body: 'hi', extra: 1 }, 400, 'invalid_request', 'body.extra'],
        [{ type: 'FACT', body: 'hi', taskId: 'nope' }, 400, 'invalid_request', 'body.taskId'],
        [{ type: 'FACT', body: 'x'.repeat(70_000) }, 400, 'invalid_input', 'body'],
        [{ type: 'FACT', body: '   ' }, 400, 'invalid_input', 'body'],
        [{ type: 'FACT', body: 'hi', taskId: other, runId: run }, 400, 'invalid_input', 'runId'],
        [{ type: 'FACT', body: 'hi', taskId: 'T-9999' }, 404, 'not_found', ''],
        [{ type: 'FACT', body: 'hi', runId: 'r0000000000000000000000' }, 404, 'not_found', ''],
        // The engine's own types: a client cannot forge a run's start or end.
        [{ type: 'RUN_START', body: 'forged', runId: run }, 400, 'invalid_request', 'body.type'],
        [{ type: 'run_stop', author: 'bot', body: 'forged' }, 400, 'invalid_request', 'body.type'],
        [{ type: ' RUN_STOP ', body: 'forged', taskId: task }, 400, 'invalid_request', 'body.type'],
        [null, 400, 'invalid_request', 'body'],
        [['FACT'], 400, 'invalid_request', 'body'],
      ];
      for (const [payload, status, code, field] of cases) {
        const r = await call('POST', '/api/v1/messages', payload);
        assert.equal(r.statusCode, status, `${JSON.stringify(payload).slice(0, 80)}: ${r.body}`);
        assert.equal(r.json().error.code, code);
        if (field) assert.equal(r.json().error.details.field, field);
        if (/RUN_/i.test(JSON.stringify(payload))) {
          assert.match(r.json().error.message, /RUN_(START|STOP) is reserved: the board posts it/);
        }
      }
      for (const [q, status, field] of [
        ['task=T-9999', 404, ''],
        ['limit=0', 400, 'query.limit'],
        ['limit=1001', 400, 'query.limit'],
        ['after=-1', 400, 'query.after'],
        ['task=x', 400, 'query.task'],
        ['type=FACT', 400, 'query.type'],
      ] as const) {
        const r = await call('GET', `/api/v1/messages?${q}`);
        assert.equal(r.statusCode, status, q);
        if (field) assert.equal(r.json().error.details.field, field, q);
      }
      assert.equal(await snapshot(api.app), before);
      assert.equal(await count(), messages);
    });
  });
}

messageSuite('sqlite', async () => sqliteBoard());

let pg: TestPostgres | undefined;
after(() => pg?.close());
messageSuite('postgres', async () => {
  pg ??= await startPostgres();
  return postgresBoard(await pg.createDatabase());
});
