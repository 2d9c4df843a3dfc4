/**
 * What an agent can reach, on the multi-host setup: a PostgreSQL board whose
 * API is `serve --no-worker` and whose runs are started by an `agentboard
 * worker` told the API's address (AGENTBOARD_URL). The agent gets no database
 * URL and no password; its `agentboard` goes through the API with its run's
 * own token, which may read the board and write only about its own task, and
 * stops working when the run ends.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addTask } from '../../src/app/tasks.js';
import { readMessages } from '../../src/store/messages.js';
import { listRuns } from '../../src/store/runs.js';
import { getTask, listTasks } from '../../src/store/tasks.js';
import { waitFor } from '../engine/harness.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';
import { ServeProcess } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { createWorkerBoard } from '../workers/helpers.js';

/**
 * The agent: records its environment, then tries what an agent may do and
 * what it may not, through its CLI and straight at the API with its token,
 * and writes down every answer.
 */
const AGENT = `
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
const out = process.env.PROBE_OUT;
const me = process.env.AGENTBOARD_TASK_ID;
const other = process.env.OTHER_TASK;
const cli = (...args) => {
  const r = spawnSync('agentboard', args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
};
const api = async (method, path, body) => {
  const r = await fetch(process.env.AGENTBOARD_URL + path, {
    method,
    headers: {
      authorization: 'Bearer ' + process.env.AGENTBOARD_TOKEN,
      ...(body ? { 'content-type': 'application/json' } : { 'x-agentboard-request': '1' }),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await r.text();
  let code = null;
  try { code = JSON.parse(text).error?.code ?? null; } catch {}
  return { status: r.status, code };
};
const results = {
  env: process.env,
  post: cli('bus', 'post', 'hello from the agent'),
  sub: cli('task', 'add', 'Part of it', '--parent', me, '--json'),
  show: cli('task', 'show', other, '--json'),
  list: cli('task', 'list', '--json'),
  comment: cli('task', 'comment', me, 'noted'),
  moveOwn: cli('task', 'move', me, 'done'),
  runs: cli('runs', '--json'),
  readBoard: await api('GET', '/api/v1/tasks'),
  patchOther: await api('PATCH', '/api/v1/tasks/' + other, { title: 'taken over' }),
  moveOther: await api('POST', '/api/v1/tasks/' + other + '/move', { status: 'done' }),
  subOfOther: await api('POST', '/api/v1/tasks', { title: 'sneaky', parent: other }),
  topLevel: await api('POST', '/api/v1/tasks', { title: 'sneaky' }),
  verify: await api('POST', '/api/v1/tasks', { title: 'x', parent: me, verifyCommand: 'id' }),
  postOther: await api('POST', '/api/v1/messages', { taskId: other, type: 'PROGRESS', body: 'x' }),
  commentOther: await api('POST', '/api/v1/tasks/' + other + '/comments', { body: 'x' }),
  startRun: await api('POST', '/api/v1/tasks/' + me + '/runs'),
  cancelOther: await api('POST', '/api/v1/tasks/' + other + '/cancel'),
};
// The board's MCP server as an agent's MCP client starts it: \`agentboard mcp\`, in the run's env.
const { Client } = await import(process.env.MCP_CLIENT);
const { StdioClientTransport } = await import(process.env.MCP_STDIO);
const client = new Client({ name: 'probe', version: '1.0.0' });
await client.connect(new StdioClientTransport({ command: 'agentboard', args: ['mcp'], env: process.env }));
const tool = async (name, args) => {
  const r = await client.callTool({ name, arguments: args });
  return { isError: r.isError === true, text: r.content.map((c) => c.text).join('') };
};
results.mcp = {
  post: await tool('bus_post', { type: 'PROGRESS', body: 'hello over MCP' }),
  read: await tool('get_task', { id: other }),
  update: await tool('update_task', { id: other, title: 'taken over' }),
};
await client.close();
fs.writeFileSync(out, JSON.stringify(results));
`;

interface CliAnswer {
  status: number | null;
  stdout: string;
  stderr: string;
}
interface ApiAnswer {
  status: number;
  code: string | null;
}

/** Where the agent finds the MCP client: its script lives outside this package. */
const sdk = createRequire(import.meta.url);

let pg: TestPostgres;
before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.close();
});

test('an agent on a worker host: no database URL or password, its own task only, and its token ends with its run', {
  timeout: 180_000,
}, async (t) => {
  const databaseUrl = await pg.createDatabase();
  const root = tempDir('agentboard-agent-access-');
  const script = path.join(root, 'agent.mjs');
  const probeOut = path.join(root, 'probe.json');
  fs.writeFileSync(script, AGENT);
  const board = createWorkerBoard(databaseUrl, {
    agents: {
      bot: {
        kind: 'command',
        command: process.execPath,
        args: [script],
        env: {
          PROBE_OUT: probeOut,
          MCP_CLIENT: sdk.resolve('@modelcontextprotocol/sdk/client/index.js'),
          MCP_STDIO: sdk.resolve('@modelcontextprotocol/sdk/client/stdio.js'),
        },
      },
    },
    // A pointless retry of the probe would show as a second run.
    defaults: { max_attempts: 2 },
  });
  const app = await board.open();
  t.after(() => app.store.close());
  const api = new ServeProcess(board.home, {
    args: ['serve', '--no-worker'],
    env: { AGENTBOARD_DATABASE_URL: databaseUrl, PGPASSWORD: 'password' },
  });
  t.after(() => api.stop());
  await api.waitReady(60_000);
  const apiUrl = api.url as string;

  const other = await addTask(app, { title: 'Someone else’s', status: 'backlog' });
  const worker = await board.startWorker([], {
    AGENTBOARD_URL: apiUrl,
    OTHER_TASK: other.id,
    PGPASSWORD: 'password',
  });
  t.after(() => worker.stop());
  const mine = await addTask(app, { title: 'Probe the board', agent: 'bot' });
  const myId = Number(mine.id.slice(2));
  const otherId = Number(other.id.slice(2));

  await waitFor('the probe to finish', () => fs.existsSync(probeOut), 90_000);
  const r = JSON.parse(fs.readFileSync(probeOut, 'utf8')) as Record<string, unknown> & {
    env: Record<string, string>;
  };
  const cli = (k: string) => r[k] as CliAnswer;
  const answer = (k: string) => r[k] as ApiAnswer;

  // The environment: the run's token and the API's address, never the database.
  assert.equal(r.env.AGENTBOARD_DATABASE_URL, undefined);
  assert.equal(r.env.PGPASSWORD, undefined);
  for (const [k, v] of Object.entries(r.env)) {
    assert.ok(!v.includes('postgres://'), `${k} holds a database URL`);
    assert.ok(!v.includes(':password@'), `${k} holds the database password`);
  }
  assert.match(r.env.AGENTBOARD_TOKEN ?? '', /^abr_r[0-9a-z]{22}_[\w-]{32}$/);
  assert.equal(r.env.AGENTBOARD_URL, apiUrl);

  // What it may do, through its CLI (which has no database to open).
  assert.equal(cli('post').status, 0, cli('post').stderr);
  assert.equal(cli('sub').status, 0, cli('sub').stderr);
  const sub = JSON.parse(cli('sub').stdout) as { id: string; parentId: string | null };
  assert.equal(cli('show').status, 0, cli('show').stderr);
  assert.equal((JSON.parse(cli('show').stdout) as { id: string }).id, other.id);
  assert.equal(cli('list').status, 0, cli('list').stderr);
  assert.equal(cli('comment').status, 0, cli('comment').stderr);
  assert.equal(answer('readBoard').status, 200);

  // What it may not: each refused with the one code, nothing changed.
  assert.notEqual(cli('moveOwn').status, 0);
  assert.match(cli('moveOwn').stderr, /inside a run\) this command cannot reach the board/);
  assert.notEqual(cli('runs').status, 0);
  for (const k of [
    'patchOther',
    'moveOther',
    'subOfOther',
    'topLevel',
    'verify',
    'postOther',
    'commentOther',
    'startRun',
    'cancelOther',
  ]) {
    assert.deepEqual(answer(k), { status: 403, code: 'outside_run_scope' }, k);
  }
  const otherNow = await getTask(app.store.db, otherId);
  assert.equal(otherNow?.title, 'Someone else’s');
  assert.equal(otherNow?.status, 'backlog');
  const tasks = await listTasks(app.store.db, {});
  assert.deepEqual(
    tasks.map((x) => x.title).sort(),
    ['Part of it', 'Probe the board', 'Someone else’s'],
    'only the subtask was added',
  );
  assert.equal(tasks.find((x) => x.title === 'Part of it')?.parent_id, myId);
  assert.ok(sub.id);
  const messages = await readMessages(app.store.db, { after: 0, limit: 100, taskId: myId });
  assert.ok(messages.some((m) => m.body === 'hello from the agent' && m.author === 'bot'));
  assert.equal(
    (await readMessages(app.store.db, { after: 0, limit: 100, taskId: otherId })).length,
    0,
  );

  // Its MCP server goes through the API with the same token, within the same scope.
  const mcp = r.mcp as Record<string, { isError: boolean; text: string }>;
  assert.equal(mcp.post?.isError, false, mcp.post?.text);
  assert.equal(mcp.read?.isError, false, mcp.read?.text);
  assert.match(mcp.read?.text ?? '', /Someone else’s/);
  assert.equal(mcp.update?.isError, true);
  assert.match(mcp.update?.text ?? '', /^outside_run_scope: /);
  assert.ok(messages.some((m) => m.body === 'hello over MCP'));

  // The run ends: its token stops working on the spot.
  await waitFor(
    'the run to end',
    async () => (await listRuns(app.store.db, { taskId: myId })).every((x) => x.ended_at !== null),
    60_000,
  );
  assert.equal((await listRuns(app.store.db, { taskId: myId })).length, 1, 'run once');
  const late = await fetch(`${apiUrl}/api/v1/tasks`, {
    headers: { authorization: `Bearer ${r.env.AGENTBOARD_TOKEN}` },
  });
  assert.equal(late.status, 401);
  assert.equal(((await late.json()) as { error: { code: string } }).error.code, 'unauthorized');
});
