import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import { parseTaskId } from '../../src/domain/ids.js';
import { claimNext } from '../../src/store/runs.js';
import { type ApiBoard, apiBoard } from '../support/api.js';
import { testConfig } from '../support/board.js';

const SECRET = 'sk-ant-agenttoken-0123456789abcdef';

describe('HTTP API: agents', () => {
  let api: ApiBoard;
  before(async () => {
    api = await apiBoard({
      config: testConfig({
        board: { autostart: false },
        agents: {
          bot: { kind: 'command', command: 'true', max_concurrency: 2 },
          // `true --version` prints nothing: checked fast, with a warning.
          claude: { kind: 'claude', command: 'true', token: SECRET },
          // Its command path holds the token, so its "not installed" problem would leak it.
          leaky: { kind: 'command', command: `/nowhere/${SECRET}/agent` },
        },
      }),
    });
  });
  after(() => api.close());

  const get = (url: string) => api.server.inject({ method: 'GET', url });

  it('lists every configured agent with its status, load and usage', async () => {
    const t = parseTaskId((await addTask(api.app, { title: 'x', agent: 'bot' })).id);
    await startRun(api.app, t);
    await api.app.store.tx((tx) =>
      claimNext(tx, {
        workerId: 'w',
        host: 'h',
        bootId: 'b',
        leaseMs: 60_000,
        agentLimits: { bot: 2 },
        globalLimit: 3,
      }),
    );

    const r = await get('/api/v1/agents');
    assert.equal(r.statusCode, 200, r.body);
    const items = r.json().items as Record<string, unknown>[];
    assert.deepEqual(
      items.map((a) => a.name),
      ['bot', 'helper', 'claude', 'leaky'],
    );
    const bot = items[0] as Record<string, unknown>;
    assert.equal(bot.canRun, true);
    assert.equal(bot.running, 1);
    assert.equal(bot.maxConcurrency, 2);
    assert.equal(bot.inUse, true);
    assert.deepEqual(bot.usage, { runs: 1, tokensIn: 0, tokensOut: 0, costUsd: 0 });
    const claude = items[2] as { credentials: { ok: boolean; source: string } };
    assert.deepEqual(claude.credentials, { ok: true, source: 'token (config)' });
    const leaky = items[3] as { canRun: boolean; problems: string[] };
    assert.equal(leaky.canRun, false);
    assert.match(leaky.problems[0] ?? '', /is not installed/);

    assert.ok(!r.body.includes(SECRET), 'no response carries an agent token');
  });

  it('shows one agent, redacted, and answers an unknown one with 404', async () => {
    const leaky = await get('/api/v1/agents/leaky');
    assert.equal(leaky.statusCode, 200, leaky.body);
    assert.equal(leaky.json().name, 'leaky');
    assert.equal(leaky.json().inUse, false, 'asking about an agent does not make it in use');
    assert.match(leaky.json().command, /^\/nowhere\/\*+\/agent$/);
    assert.ok(!leaky.body.includes(SECRET));

    const missing = await get('/api/v1/agents/nobody');
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().error.code, 'not_found');
    assert.match(missing.json().error.message, /agent nobody not found: configured agents: bot/);

    // Inherited object keys are not agents.
    assert.equal((await get('/api/v1/agents/constructor')).statusCode, 404);
    const long = await get(`/api/v1/agents/${'a'.repeat(65)}`);
    assert.equal(long.statusCode, 400);
    assert.equal(long.json().error.details.field, 'params.name');
    const query = await get('/api/v1/agents?verbose=1');
    assert.equal(query.statusCode, 400);
    assert.equal(query.json().error.details.field, 'query.verbose');
  });
});
