/**
 * Every code in the API's error catalog, produced by a real request: its
 * status, and the one error shape. A code no request can produce does not
 * belong in the catalog (see PROCESS_ERROR_CODES in src/domain/errors.ts).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { syncHeartbeats } from '../../src/app/heartbeat.js';
import { newRunToken } from '../../src/app/run-token.js';
import { startRun, stopRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import { prepareRunWorkspace, worktreeDir } from '../../src/app/workspaces.js';
import { API_ERROR_CODES, type ApiErrorCode } from '../../src/domain/errors.js';
import { ERROR_CATALOG } from '../../src/server/error-catalog.js';
import { getRun } from '../../src/store/runs.js';
import {
  type ApiBoard,
  apiBoard,
  BOARD_WRITE_HEADERS,
  OWN_ORIGIN,
  testServer,
} from '../support/api.js';
import { testConfig } from '../support/board.js';
import { createRepo, git, openBoard, type WsBoard, wsConfig } from '../workspace/helpers.js';
import { assertErrorShape } from './error-shape.js';

/** Each code, once produced: the test at the end checks none is missing. */
const produced = new Set<string>();

function expectCode(res: LightMyRequestResponse, code: ApiErrorCode, where: string): void {
  const e = assertErrorShape(res, where);
  assert.equal(e.code, code, `${where}: ${res.body.slice(0, 300)}`);
  assert.equal(res.statusCode, ERROR_CATALOG[code].status, where);
  produced.add(code);
}

describe('the error catalog: every code through a real request', () => {
  let api: ApiBoard;
  const call: ApiBoard['call'] = (method, url, payload) => api.call(method, url, payload);
  const id = async (payload: Record<string, unknown>): Promise<string> => {
    const r = await call('POST', '/api/v1/tasks', payload);
    assert.equal(r.statusCode, 201, r.body);
    return r.json().id;
  };

  before(async () => {
    api = await apiBoard({
      config: testConfig({
        board: { autostart: false },
        agents: {
          bot: { kind: 'command', command: 'true', heartbeat: { cron: '0 * * * *' } },
          helper: { kind: 'command', command: 'true' },
        },
      }),
    });
    await syncHeartbeats(api.app);
  });
  after(() => api.close());

  it('the catalog names exactly the API codes of the domain', () => {
    assert.deepEqual(Object.keys(ERROR_CATALOG).sort(), [...API_ERROR_CODES].sort());
  });

  it('request shape: invalid_request, invalid_json, body_too_large, unsupported_media_type', async () => {
    expectCode(await call('POST', '/api/v1/tasks', { title: 5 }), 'invalid_request', 'bad field');
    const t = await id({ title: 'null body', agent: 'bot' });
    // A JSON null once queued a run.
    const nul = await api.server.inject({
      method: 'POST',
      url: `/api/v1/tasks/${t}/runs`,
      headers: { origin: OWN_ORIGIN, 'content-type': 'application/json' },
      payload: 'null',
    });
    expectCode(nul, 'invalid_request', 'null body');
    assert.equal((await call('GET', `/api/v1/runs?task=${t}`)).json().items.length, 0);
    const inject = (payload: string, type: string) =>
      api.server.inject({
        method: 'POST',
        url: '/api/v1/tasks',
        headers: { origin: OWN_ORIGIN, 'content-type': type },
        payload,
      });
    expectCode(await inject('{"title":', 'application/json'), 'invalid_json', 'bad JSON');
    expectCode(await inject('', 'application/json'), 'invalid_json', 'empty JSON');
    expectCode(
      await inject(
        JSON.stringify({ title: 'x', body: 'y'.repeat(3 * 1024 * 1024) }),
        'application/json',
      ),
      'body_too_large',
      '3 MiB',
    );
    expectCode(await inject('<p>x</p>', 'text/html'), 'unsupported_media_type', 'html');
    expectCode(
      await inject('title=x', 'application/x-www-form-urlencoded'),
      'unsupported_media_type',
      'form',
    );
  });

  it('routes: route_not_found, method_not_allowed (with Allow), not_found', async () => {
    expectCode(await call('GET', '/api/v1/nothing'), 'route_not_found', 'unknown route');
    const del = await call('DELETE', '/api/v1/runs');
    expectCode(del, 'method_not_allowed', 'DELETE /runs');
    assert.equal(del.headers.allow, 'GET, HEAD');
    const put = await call('PUT', '/api/v1/tasks/T-1');
    expectCode(put, 'method_not_allowed', 'PUT /tasks/:id');
    assert.equal(put.headers.allow, 'GET, HEAD, PATCH, DELETE');
    expectCode(await call('GET', '/api/v1/tasks/T-9999'), 'not_found', 'no task');
  });

  it('the board: invalid_input and every 409 of tasks, runs and schedules', async () => {
    const t = await id({ title: 'mentions' });
    expectCode(
      await call('POST', `/api/v1/tasks/${t}/comments`, { body: '@bot and @helper, both' }),
      'invalid_input',
      'two mentions',
    );
    const backlog = await id({ title: 'backlog', status: 'backlog' });
    expectCode(
      await call('POST', `/api/v1/tasks/${backlog}/move`, { status: 'in_progress' }),
      'illegal_transition',
      'backlog -> in progress',
    );

    const busy = await id({ title: 'busy', agent: 'bot' });
    const run = await call('POST', `/api/v1/tasks/${busy}/runs`);
    assert.equal(run.statusCode, 202, run.body);
    expectCode(await call('POST', `/api/v1/tasks/${busy}/runs`), 'run_active', 'second run');
    // Deleting the task, or discarding its workspace, is refused with the same code.
    expectCode(await call('DELETE', `/api/v1/tasks/${busy}`), 'run_active', 'delete busy');
    assert.equal((await call('POST', `/api/v1/runs/${run.json().id}/stop`)).statusCode, 202);
    expectCode(
      await call('POST', `/api/v1/runs/${run.json().id}/stop`),
      'run_not_active',
      'stop twice',
    );
    expectCode(
      await call('GET', `/api/v1/runs/${run.json().id}/logs?offset=999999`),
      'range_not_satisfiable',
      'offset past the end',
    );
    // What gc records when it removes a finished run's output.
    await api.app.store.db
      .updateTable('runs')
      .set({ output_removed_at: Date.UTC(2026, 11, 7) })
      .where('id', '=', run.json().id)
      .execute();
    const removed = await call('GET', `/api/v1/runs/${run.json().id}/logs`);
    expectCode(removed, 'output_removed', 'logs removed by gc');
    assert.match(removed.json().error.message, /removed by gc on 2026-12-07/);

    const a = await id({ title: 'a', status: 'backlog' });
    const b = await id({ title: 'b', status: 'backlog', dependsOn: [a] });
    expectCode(
      await call('PATCH', `/api/v1/tasks/${a}`, { addDependsOn: [b] }),
      'dependency_cycle',
      'a <-> b',
    );
    expectCode(await call('PATCH', `/api/v1/tasks/${a}`, { parent: a }), 'parent_cycle', 'self');
    const parent = await id({ title: 'parent', status: 'review' });
    await id({ title: 'child', status: 'backlog', parent });
    expectCode(
      await call('POST', `/api/v1/tasks/${parent}/move`, { status: 'done' }),
      'open_subtasks',
      'parent done',
    );

    const target = await id({ title: 'scheduled', status: 'backlog' });
    const s = await call('POST', '/api/v1/schedules', {
      cron: '0 9 * * *',
      agent: 'bot',
      prompt: 'again',
      task: target,
    });
    assert.equal(s.statusCode, 201, s.body);
    expectCode(await call('DELETE', `/api/v1/tasks/${target}`), 'task_scheduled', 'scheduled');
    const hb = (await call('GET', '/api/v1/schedules'))
      .json()
      .items.find((x: { heartbeat: boolean }) => x.heartbeat);
    assert.ok(hb, 'the heartbeat schedule');
    expectCode(await call('DELETE', `/api/v1/schedules/${hb.id}`), 'schedule_heartbeat', 'hb');
  });

  it('security: host_not_allowed, origin_not_allowed, request_header_required, outside_run_scope, unauthorized, too_many_auth_failures', async () => {
    expectCode(
      await api.server.inject({
        method: 'GET',
        url: '/api/v1/tasks',
        headers: { host: 'evil.example' },
      }),
      'host_not_allowed',
      'foreign Host',
    );
    expectCode(
      await api.server.inject({
        method: 'POST',
        url: '/api/v1/tasks',
        headers: { origin: 'http://evil.example' },
        payload: { title: 'x' },
      }),
      'origin_not_allowed',
      'foreign Origin',
    );
    expectCode(
      await api.server.inject({ method: 'POST', url: '/api/v1/tasks/T-1/cancel' }),
      'request_header_required',
      'a body-less write without the header',
    );
    // A run's own token, writing outside its task.
    const mine = await addTask(api.app, { title: 'the run’s own', agent: 'helper' });
    const run = await startRun(api.app, Number(mine.id.slice(2)));
    const runToken = newRunToken(run.id);
    await api.app.store.db
      .updateTable('runs')
      .set({ state: 'running', api_token_hash: runToken.hash })
      .where('id', '=', run.id)
      .execute();
    const elsewhere = await id({ title: 'someone else’s' });
    expectCode(
      await api.server.inject({
        method: 'PATCH',
        url: `/api/v1/tasks/${elsewhere}`,
        headers: { ...BOARD_WRITE_HEADERS, authorization: `Bearer ${runToken.token}` },
        payload: { title: 'mine now' },
      }),
      'outside_run_scope',
      'a run’s token changing another task',
    );
    const locked = await apiBoard({
      config: testConfig({ board: { autostart: false } }),
      security: { verifyToken: (tok) => tok === 'right-token', authFailuresPerMinute: 3 },
    });
    try {
      const bad = () =>
        locked.server.inject({
          method: 'GET',
          url: '/api/v1/tasks',
          headers: { authorization: 'Bearer wrong' },
        });
      expectCode(await bad(), 'unauthorized', 'wrong token');
      await bad();
      await bad();
      expectCode(await bad(), 'too_many_auth_failures', 'fourth failure');
    } finally {
      await locked.close();
    }
  });

  it('approvals: approval_decided (a request is decided once)', async () => {
    const t = await addTask(api.app, { title: 'asks', agent: 'helper' });
    const run = await startRun(api.app, Number(t.id.slice(2)));
    await api.app.store.db
      .updateTable('runs')
      .set({ state: 'running' })
      .where('id', '=', run.id)
      .execute();
    const a = await call('POST', `/api/v1/runs/${run.id}/approvals`, {
      tool: 'Bash',
      input: { command: 'ls' },
    });
    assert.equal(a.statusCode, 201, a.body);
    const denied = await call('POST', `/api/v1/approvals/${a.json().id}/deny`, { message: 'no' });
    assert.equal(denied.statusCode, 200, denied.body);
    expectCode(
      await call('POST', `/api/v1/approvals/${a.json().id}/allow`, {}),
      'approval_decided',
      'decided twice',
    );
  });

  it('the server: internal for a bug (no detail leaked), unavailable for a closed store', async () => {
    const own = await apiBoard({ config: testConfig({ board: { autostart: false } }) });
    const ping = own.app.store.ping.bind(own.app.store);
    own.app.store.ping = async () => {
      throw new TypeError('secret internals: cannot read x of undefined');
    };
    const bug = await own.call('GET', '/healthz');
    expectCode(bug, 'internal', 'a bug');
    assert.doesNotMatch(bug.body, /secret internals/);
    own.app.store.ping = ping;
    await own.app.store.close();
    expectCode(
      await own.call('POST', '/api/v1/tasks', { title: 'too late' }),
      'unavailable',
      'store closed',
    );
    expectCode(await own.call('GET', '/api/v1/tasks'), 'unavailable', 'read on a closed store');
    await own.server.close();
  });

  it('the database: store_busy, store_full, store_read_only, each naming the path, reads still served', async () => {
    const own = await apiBoard({ config: testConfig({ board: { autostart: false } }) });
    try {
      const file = own.app.paths.database;
      const sqlite = own.app.store.sqlite;
      assert.ok(sqlite, 'a SQLite board');
      const readable = async (where: string) =>
        assert.equal((await own.call('GET', '/api/v1/tasks')).statusCode, 200, where);

      // Another connection (as another program would) holds the write lock.
      const other = new SqliteDatabase(file);
      other.exec('BEGIN IMMEDIATE');
      try {
        const busy = await own.call('POST', '/api/v1/tasks', { title: 'locked out' });
        expectCode(busy, 'store_busy', 'write lock held elsewhere');
        assert.ok(busy.json().error.message.includes(file), busy.body);
        await readable('reads while locked');
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }

      // A full disk, as SQLite reports it: the file may not grow.
      const pages = sqlite.pragma('page_count', { simple: true }) as number;
      sqlite.pragma(`max_page_count = ${pages}`);
      const full = await own.call('POST', '/api/v1/tasks', {
        title: 'too big',
        body: 'x'.repeat(200_000),
      });
      sqlite.pragma(`max_page_count = ${2 ** 30}`);
      expectCode(full, 'store_full', 'disk full');
      assert.ok(full.json().error.message.includes(path.dirname(file)), full.body);
      await readable('reads while full');

      sqlite.pragma('query_only = 1');
      const ro = await own.call('POST', '/api/v1/tasks', { title: 'read-only' });
      sqlite.pragma('query_only = 0');
      expectCode(ro, 'store_read_only', 'read-only database');
      assert.ok(ro.json().error.message.includes(file), ro.body);

      // Once the fault is gone, writes go through again.
      assert.equal((await own.call('POST', '/api/v1/tasks', { title: 'after' })).statusCode, 201);
    } finally {
      await own.close();
    }
  });

  it('a request Node cannot parse: headers_too_large and invalid_request, in the same shape', async () => {
    const raw = await rawServer();
    try {
      const big = await rawRequest(
        raw.port,
        `GET /api/v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'x'.repeat(20_000)}\r\n\r\n`,
      );
      expectCode(big, 'headers_too_large', '20 kB header');
      const junk = await rawRequest(raw.port, 'GET /api/v1/tasks HTTP/9.9 junk\r\n\r\n');
      expectCode(junk, 'invalid_request', 'not HTTP');
    } finally {
      await raw.close();
    }
  });
});

describe('the error catalog: the worktree codes through a real repository', () => {
  let board: WsBoard;
  let server: FastifyInstance;
  const call = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: object) =>
    server.inject({
      method,
      url,
      headers: BOARD_WRITE_HEADERS,
      ...(payload ? { payload } : {}),
    });

  before(async () => {
    board = await openBoard(createRepo(), wsConfig('true', { board: { autostart: false } }), {
      engine: false,
    });
    server = testServer(board.app);
    await server.ready();
  });
  after(async () => {
    await server.close();
    await board.close();
  });

  /** A task with its worktree made (as its first run would), that run already ended. */
  async function taskWithWorktree(title: string) {
    const task = await addTask(board.app, { title, agent: 'bot' });
    const n = Number(task.id.slice(2));
    const view = await startRun(board.app, n, {});
    const run = await getRun(board.app.store.db, view.id);
    assert.ok(run && board.app.config.agents.bot);
    await prepareRunWorkspace(board.app, run, board.app.config.agents.bot);
    await stopRun(board.app, view.id);
    const wt = worktreeDir(board.app, n);
    const commit = (file: string, text: string) => {
      fs.writeFileSync(path.join(wt, file), text);
      git(wt, 'add', '--all');
      git(wt, 'commit', '--quiet', '-m', `${title}: ${file}`);
    };
    return { id: task.id, runId: view.id, wt, branch: git(wt, 'branch', '--show-current'), commit };
  }

  it('workspace_dirty, merge_conflict, base_checkout_dirty, base_checkout_refused', async () => {
    const repo = board.repo;
    const dirty = await taskWithWorktree('dirty');
    fs.writeFileSync(path.join(dirty.wt, 'scratch.txt'), 'not committed');
    expectCode(await call('POST', `/api/v1/tasks/${dirty.id}/merge`), 'workspace_dirty', 'dirty');

    const conflict = await taskWithWorktree('conflict');
    conflict.commit('shared.txt', 'the task’s line 1\n');
    fs.writeFileSync(path.join(repo, 'shared.txt'), 'the user’s line 1\n');
    git(repo, 'commit', '--quiet', '-am', 'user edit');
    expectCode(
      await call('POST', `/api/v1/tasks/${conflict.id}/merge`),
      'merge_conflict',
      'both edited line 1',
    );

    const checkoutDirty = await taskWithWorktree('base dirty');
    checkoutDirty.commit('d.txt', 'd\n');
    fs.writeFileSync(path.join(repo, 'shared.txt'), 'uncommitted by the user\n');
    expectCode(
      await call('POST', `/api/v1/tasks/${checkoutDirty.id}/merge`),
      'base_checkout_dirty',
      'user edits in the base checkout',
    );
    git(repo, 'checkout', '--quiet', '--', 'shared.txt');

    const refused = await taskWithWorktree('base refused');
    refused.commit('new.txt', 'from the task\n');
    fs.writeFileSync(path.join(repo, 'new.txt'), 'the user’s untracked file\n');
    expectCode(
      await call('POST', `/api/v1/tasks/${refused.id}/merge`),
      'base_checkout_refused',
      'an untracked file in the way',
    );
    fs.rmSync(path.join(repo, 'new.txt'));
  });

  it('base_moved, branch_missing, run_not_committed, repo_locked', async () => {
    const repo = board.repo;
    const moved = await taskWithWorktree('moved');
    moved.commit('m.txt', 'm\n');
    // The base is not checked out, and its ref is held by another git: the compare-and-swap fails.
    git(repo, 'checkout', '--quiet', '-b', 'elsewhere');
    const refLock = path.join(repo, '.git', 'refs', 'heads', 'main.lock');
    fs.writeFileSync(refLock, '');
    try {
      expectCode(await call('POST', `/api/v1/tasks/${moved.id}/merge`), 'base_moved', 'ref held');
    } finally {
      fs.rmSync(refLock);
      git(repo, 'checkout', '--quiet', 'main');
    }

    const missing = await taskWithWorktree('missing');
    git(repo, 'update-ref', '-d', `refs/heads/${missing.branch}`);
    expectCode(await call('GET', `/api/v1/tasks/${missing.id}/diff`), 'branch_missing', 'deleted');

    const uncommitted = await taskWithWorktree('uncommitted');
    await board.app.store.db
      .updateTable('runs')
      .set({ commit_before: git(uncommitted.wt, 'rev-parse', 'HEAD'), commit_after: null })
      .where('id', '=', uncommitted.runId)
      .execute();
    expectCode(
      await call('GET', `/api/v1/runs/${uncommitted.runId}/diff`),
      'run_not_committed',
      'no commit after',
    );

    // Another live process holds the worktree lock past the wait: time runs fast here.
    const locked = await taskWithWorktree('locked');
    const lock = path.join(repo, '.git', 'agentboard-worktrees.lock');
    fs.writeFileSync(lock, String(process.pid));
    const realNow = Date.now;
    let calls = 0;
    Date.now = () => realNow() + calls++ * 61_000;
    try {
      expectCode(await call('POST', `/api/v1/tasks/${locked.id}/discard`), 'repo_locked', 'held');
    } finally {
      Date.now = realNow;
      fs.rmSync(lock);
    }
  });

  it('remote_not_configured, pr_command_not_configured, push_failed, pr_command_failed, review_comment_sent, diff_changed', async () => {
    const t = await taskWithWorktree('publish');
    t.commit('p.txt', 'p\n');
    expectCode(
      await call('POST', `/api/v1/tasks/${t.id}/push`),
      'remote_not_configured',
      'no remote',
    );
    expectCode(
      await call('POST', `/api/v1/tasks/${t.id}/pull-request`),
      'pr_command_not_configured',
      'no command',
    );
    const cfg = board.app.config.board;
    try {
      cfg.remote = 'nowhere';
      expectCode(await call('POST', `/api/v1/tasks/${t.id}/push`), 'push_failed', 'no such remote');
      cfg.remote = undefined;
      cfg.pr_command = ['false'];
      expectCode(
        await call('POST', `/api/v1/tasks/${t.id}/pull-request`),
        'pr_command_failed',
        'exits 1',
      );
    } finally {
      cfg.remote = undefined;
      cfg.pr_command = undefined;
    }
    const url = `/api/v1/tasks/${t.id}/review`;
    expectCode(
      await call('POST', `${url}/comments`, {
        file: 'p.txt',
        line: 1,
        quote: 'what the tab showed before the branch moved',
        body: 'why?',
      }),
      'diff_changed',
      'line 1 of p.txt now reads "p"',
    );
    const c = await call('POST', `${url}/comments`, { file: 'p.txt', line: 1, body: 'why?' });
    assert.equal(c.statusCode, 201, c.body);
    assert.equal((await call('POST', url, { verdict: 'request_changes' })).statusCode, 200);
    expectCode(
      await call('DELETE', `${url}/comments/${c.json().id}`),
      'review_comment_sent',
      'sent',
    );
  });
});

describe('the error catalog is covered', () => {
  it('every code was produced above', () => {
    const missing = API_ERROR_CODES.filter((c) => !produced.has(c));
    assert.deepEqual(missing, [], `codes no request produced: ${missing.join(', ')}`);
  });
});

/** The board's server listening on a free port, for requests inject() cannot send. */
async function rawServer(): Promise<{ port: number; close(): Promise<void> }> {
  const api = await apiBoard({
    config: testConfig({ board: { autostart: false } }),
    security: { port: 0 },
  });
  await api.server.listen({ host: '127.0.0.1', port: 0 });
  const addr = api.server.server.address();
  assert.ok(addr && typeof addr === 'object');
  return { port: addr.port, close: () => api.close() };
}

/** Sends bytes as they are and parses the answer's status, headers and body. */
function rawRequest(port: number, bytes: string): Promise<LightMyRequestResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.end(bytes));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      text += d;
    });
    socket.on('error', (e) => (text ? undefined : reject(e)));
    socket.on('close', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n');
      const [status = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        headers[l.slice(0, i).toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({
        statusCode: Number(status.split(' ')[1]),
        headers,
        body,
      } as unknown as LightMyRequestResponse);
    });
  });
}
