/**
 * The workspace rows on both dialects: a worktree row saved again (recreated
 * after gc or discard) is current again, and the gc schedule's claim lets
 * one claimant through per period.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { App } from '../../src/app/context.js';
import { addTask } from '../../src/app/tasks.js';
import {
  claimMaintenance,
  gcFacts,
  getMaintenance,
  getWorkspace,
  recordMaintenance,
  saveWorkspace,
  updateWorkspace,
} from '../../src/store/workspaces.js';
import { type BoardLocation, FakeClock, postgresBoard, sqliteBoard } from '../support/board.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

let server: TestPostgres;
before(async () => {
  server = await startPostgres();
});
after(async () => {
  await server.close();
});

async function contract(loc: BoardLocation): Promise<void> {
  const clock = new FakeClock();
  const app: App = await loc.open({ clock });
  try {
    const t = await addTask(app, { title: 'A task' });
    const id = Number(t.id.slice(2));
    const row = {
      task_id: id,
      repo: '/repo',
      path: '/home/worktrees/T-1',
      branch: 'agentboard/T-1-a-task',
      base_branch: 'main',
      base_commit: 'abc',
    };
    await app.store.tx((tx) => saveWorkspace(tx, row));
    const created = clock.now();
    clock.advance(1000);
    await app.store.tx((tx) =>
      updateWorkspace(tx, id, { removed_at: tx.now, discarded_at: tx.now, merge_commit: 'def' }),
    );
    clock.advance(1000);
    await app.store.tx((tx) => saveWorkspace(tx, { ...row, base_commit: 'xyz' }));
    const kept = await getWorkspace(app.store.db, id);
    assert.equal(kept?.merge_commit, 'def', 'recreated after gc: the branch and its merge stay');
    await app.store.tx((tx) => saveWorkspace(tx, { ...row, base_commit: 'xyz' }, { fresh: true }));
    assert.deepEqual(await getWorkspace(app.store.db, id), {
      ...row,
      base_commit: 'xyz',
      created_at: created,
      updated_at: created + 2000,
      merged_at: null,
      merge_commit: null,
      discarded_at: null,
      removed_at: null,
    });

    const day = 86_400_000;
    const claim = () => app.store.tx((tx) => claimMaintenance(tx, 'gc', day));
    assert.equal(await claim(), true, 'never ran: due');
    assert.equal(await claim(), false, 'just ran');
    clock.advance(day - 1);
    assert.equal(await claim(), false);
    clock.advance(1);
    assert.equal(await claim(), true);
    await app.store.tx((tx) => recordMaintenance(tx, 'gc', '{"removed":[]}'));
    assert.deepEqual(await getMaintenance(app.store.db, 'gc'), {
      lastRunAt: clock.now(),
      summary: '{"removed":[]}',
    });

    const facts = await gcFacts(app.store.db, [id]);
    assert.deepEqual(facts.tasks, [{ id, status: 'todo', updatedAt: created }]);
    assert.deepEqual(facts.runs, []);
  } finally {
    await app.store.close();
  }
}

test('workspace rows and the gc schedule (sqlite)', () => contract(sqliteBoard()));
test('workspace rows and the gc schedule (postgres)', async () =>
  contract(postgresBoard(await server.createDatabase())));
