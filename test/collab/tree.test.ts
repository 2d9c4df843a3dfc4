import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { startRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import { taskTree } from '../../src/app/tree.js';
import { apiBoard } from '../support/api.js';
import { testConfig } from '../support/board.js';

describe('GET /api/v1/tasks/:id/tree', () => {
  test('the task, its subtasks recursively and each one’s runs; 404 for an unknown task', async (t) => {
    const api = await apiBoard({ config: testConfig({ board: { autostart: false } }) });
    t.after(() => api.close());
    await addTask(api.app, { title: 'Root' });
    await addTask(api.app, { title: 'Child', parent: 1, agent: 'bot' });
    await addTask(api.app, { title: 'Grandchild', parent: 2 });
    await addTask(api.app, { title: 'Second child', parent: 1 });
    await addTask(api.app, { title: 'Unrelated' });
    const run = await startRun(api.app, 2);

    const r = await api.server.inject({ method: 'GET', url: '/api/v1/tasks/T-1/tree' });
    assert.equal(r.statusCode, 200);
    const { root, size, truncated } = r.json();
    assert.deepEqual([size, truncated], [4, false]);
    const shape = (n: { id: string; children: unknown[] }): unknown => [
      n.id,
      (n.children as { id: string; children: unknown[] }[]).map(shape),
    ];
    assert.deepEqual(shape(root), [
      'T-1',
      [
        ['T-2', [['T-3', []]]],
        ['T-4', []],
      ],
    ]);
    assert.deepEqual(
      root.children[0].runs.map((x: { id: string; state: string }) => [x.id, x.state]),
      [[run.id, 'queued']],
    );
    assert.equal(root.children[0].status, 'in_progress');

    const missing = await api.server.inject({ method: 'GET', url: '/api/v1/tasks/T-99/tree' });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'not_found');
    const doc = (await api.server.inject({ method: 'GET', url: '/openapi.json' })).json();
    assert.ok(doc.paths['/api/v1/tasks/{id}/tree']?.get, 'documented');

    const cut = await taskTree(api.app, 1, 2);
    assert.deepEqual([cut.size, cut.truncated], [2, true]);
  });
});
