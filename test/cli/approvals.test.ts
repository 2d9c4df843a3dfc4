/**
 * `agentboard approvals`, `approve` and `deny` as a user runs them: in a
 * child process, on a board opened by the CLI itself, and through a served
 * API (the owner's token decides; a run's token is refused).
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listRules } from '../../src/app/approval-rules.js';
import { getApprovalView, requestApproval } from '../../src/app/approvals.js';
import { type App, openApp } from '../../src/app/context.js';
import { newRunToken } from '../../src/app/run-token.js';
import { startRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import type { ApprovalView } from '../../src/contract/approvals.js';
import { listenApi } from '../support/api.js';
import { execCli } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

const BASE_PATH = `${dirname(process.execPath)}:/usr/bin:/bin`;
const OWNER = 'cli-owner-token';

describe('approval commands', () => {
  const dir = tempDir('agentboard-cli-approvals-');
  const home = join(dir, 'home');
  let app: App;
  let runId = '';
  let runToken = '';
  const ids: number[] = [];

  const cli = (args: string[], env: Record<string, string> = {}) =>
    execCli(args, {
      env: { PATH: BASE_PATH, AGENTBOARD_HOME: home, USER: 'tester', ...env },
      cwd: dir,
    });

  before(async () => {
    mkdirSync(home, { recursive: true });
    writeFileSync(
      join(home, 'config.yaml'),
      'board:\n  autostart: false\nagents:\n  bot:\n    kind: command\n    command: /bin/true\n',
    );
    app = await openApp({ env: { AGENTBOARD_HOME: home }, cwd: dir });
    const task = await addTask(app, { title: 'Needs a person', agent: 'bot' });
    const run = await startRun(app, Number(task.id.slice(2)));
    const t = newRunToken(run.id);
    await app.store.db
      .updateTable('runs')
      .set({ state: 'running', api_token_hash: t.hash })
      .where('id', '=', run.id)
      .execute();
    runId = run.id;
    runToken = t.token;
    for (const command of ['npm test', 'npm test -- -t x', 'rm -rf build', 'deploy'])
      ids.push((await requestApproval(app, runId, { tool: 'Bash', input: { command } })).id);
  });
  after(() => app.store.close());

  it('approvals lists the pending requests, oldest first', async () => {
    const r = await cli(['approvals', '--json']);
    assert.equal(r.code, 0, r.stderr);
    const items = JSON.parse(r.stdout) as ApprovalView[];
    assert.deepEqual(
      items.map((i) => i.id),
      ids,
    );
    const human = await cli(['approvals']);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, new RegExp(`A-${ids[0]}\\s+T-1\\s+bot\\s+pending.*Bash: npm test`));
  });

  it('approve once and --always; deny with a message; a second decision fails and changes nothing', async () => {
    const once = await cli(['approve', `A-${ids[0]}`]);
    assert.equal(once.code, 0, once.stderr);
    assert.match(once.stdout, /allowed \(Bash: npm test\)/);
    assert.equal((await getApprovalView(app, ids[0] as number)).decidedBy, 'tester');

    const always = await cli(['approve', String(ids[1]), '--always', '--json']);
    assert.equal(always.code, 0, always.stderr);
    assert.equal((JSON.parse(always.stdout) as ApprovalView).rule, 'Bash(npm test:*)');

    const denied = await cli(['deny', String(ids[2]), '--message', 'use make clean']);
    assert.equal(denied.code, 0, denied.stderr);
    assert.match(denied.stdout, /denied: the agent is told "use make clean"/);

    const twice = await cli(['approve', String(ids[2])]);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /already denied \(by tester/);
    assert.equal((await getApprovalView(app, ids[2] as number)).state, 'denied');

    const all = JSON.parse((await cli(['approvals', '--all', '--task', 'T-1', '--json'])).stdout);
    assert.equal(all.length, 4);
    const pending = JSON.parse((await cli(['approvals', '--json'])).stdout) as ApprovalView[];
    assert.deepEqual(
      pending.map((i) => i.id),
      [ids[3]],
    );
  });

  it('refuses what is not an approval id, and a deny without a message', async () => {
    const bad = await cli(['approve', 'banana']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not an approval id: it looks like A-12/);
    const noMessage = await cli(['deny', String(ids[3])]);
    assert.notEqual(noMessage.code, 0);
    assert.match(noMessage.stderr, /--message/);
    assert.equal((await getApprovalView(app, ids[3] as number)).state, 'pending');
  });

  it('through the API: a run token may not decide; the owner token does', async () => {
    const { server, url } = await listenApi(app, (t) => t === OWNER);
    try {
      const asRun = await cli(['approve', String(ids[3])], {
        AGENTBOARD_URL: url,
        AGENTBOARD_TOKEN: runToken,
      });
      assert.equal(asRun.code, 1);
      assert.match(asRun.stderr, /may not/);
      assert.equal((await getApprovalView(app, ids[3] as number)).state, 'pending');
      const list = await cli(['approvals', '--json'], {
        AGENTBOARD_URL: url,
        AGENTBOARD_TOKEN: OWNER,
      });
      assert.equal(list.code, 0, list.stderr);
      assert.equal((JSON.parse(list.stdout) as ApprovalView[]).length, 1);
      const asOwner = await cli(['deny', `A-${ids[3]}`, '--message', 'not today'], {
        AGENTBOARD_URL: url,
        AGENTBOARD_TOKEN: OWNER,
      });
      assert.equal(asOwner.code, 0, asOwner.stderr);
      const v = await getApprovalView(app, ids[3] as number);
      assert.equal(v.state, 'denied');
      assert.equal(v.message, 'not today');
    } finally {
      await server.close();
    }
  });

  it('approve --always prints the rule it added, and never adds a rule for every command', async () => {
    const task = await addTask(app, { title: 'Odd commands', agent: 'bot' });
    const run = await startRun(app, Number(task.id.slice(2)));
    await app.store.db
      .updateTable('runs')
      .set({ state: 'running' })
      .where('id', '=', run.id)
      .execute();
    const ask = async (command: string) =>
      (await requestApproval(app, run.id, { tool: 'Bash', input: { command } })).id;
    const plain = await ask('ls src');
    const r = await cli(['approve', String(plain), '--always']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`added the rule Bash\\(ls src:\\*\\) to ${task.id}`));
    // A command that starts with a substitution: the exact command, never bare Bash.
    const sub = await ask('$(which npm) test');
    const r2 = await cli(['approve', String(sub), '--always']);
    assert.equal(r2.code, 0, r2.stderr);
    assert.ok(
      r2.stdout.includes(`added the rule Bash($(which npm) test) to ${task.id}`),
      r2.stdout,
    );
    const rules = (await listRules(app, Number(task.id.slice(2)))).map((x) => x.rule);
    assert.deepEqual(rules, ['Bash(ls src:*)', 'Bash($(which npm) test)']);
    // Nothing to suggest (a glob in a command with an operator): refused, still pending.
    const star = await ask('rm -rf * && ls');
    const r3 = await cli(['approve', String(star), '--always']);
    assert.equal(r3.code, 2, r3.stdout);
    assert.match(r3.stderr, /no rule to suggest .* allow it once, or write the rule/);
    assert.equal((await getApprovalView(app, star)).state, 'pending');
    const once = await cli(['approve', String(star)]);
    assert.equal(once.code, 0, once.stderr);
  });
});
