/**
 * Approvals over a real served API (HTTP on a loopback port): a run's token
 * asks, only for its own run, and never decides; the owner allows once or
 * always, or denies with a message; a decision is made once; a long-poll
 * returns as soon as it is made; approval_timeout expires a request; a run's
 * end cancels its requests; the same tool use asks once; and a request
 * survives closing the server and the store, then is allowed after reopening.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expireApprovals } from '../../src/app/approval-expiry.js';
import { listRules } from '../../src/app/approval-rules.js';
import { requestApproval } from '../../src/app/approvals.js';
import type { App } from '../../src/app/context.js';
import { finishRun, finishRunInTx } from '../../src/app/finish-run.js';
import { newRunToken } from '../../src/app/run-token.js';
import { startRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import { remoteBoard } from '../../src/client/remote-board.js';
import type { ApprovalView } from '../../src/contract/approvals.js';
import { AgentboardError } from '../../src/domain/errors.js';
import { decideApproval } from '../../src/mcp/approval-prompt.js';
import { getRun } from '../../src/store/runs.js';
import { listenApi } from '../support/api.js';
import { type BoardLocation, postgresBoard, sqliteBoard, testConfig } from '../support/board.js';
import { ManualClock } from '../support/manual-clock.js';
import { startPostgres, type TestPostgres } from '../support/postgres.js';

const OWNER = 'owner-token-for-tests';

interface Served {
  app: App;
  url: string;
  close(): Promise<void>;
}

async function serve(board: BoardLocation, clock: ManualClock): Promise<Served> {
  const app = await board.open({
    clock,
    config: testConfig({
      board: { autostart: false },
      agents: {
        bot: { kind: 'command', command: 'true' },
        // Its requests expire after a minute; bot's wait for ever.
        hasty: { kind: 'command', command: 'true', approval_timeout: '1m' },
      },
    }),
  });
  const { server, url } = await listenApi(app, (t) => t === OWNER);
  return {
    app,
    url,
    async close() {
      await server.close();
      await app.store.close();
    },
  };
}

/** A running run of a new task, with its own API token. */
async function runningRun(app: App, agent = 'bot'): Promise<{ runId: string; token: string }> {
  const task = await addTask(app, { title: `work for ${agent}`, agent });
  const run = await startRun(app, Number(task.id.slice(2)));
  const t = newRunToken(run.id);
  await app.store.db
    .updateTable('runs')
    .set({ state: 'running', api_token_hash: t.hash, workdir: '/work/repo' })
    .where('id', '=', run.id)
    .execute();
  return { runId: run.id, token: t.token };
}

describe('approvals over the API', () => {
  const board = sqliteBoard();
  const clock = new ManualClock(Date.now());
  let s: Served;

  const call = async (
    method: string,
    path: string,
    o: { token?: string; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<{ status: number; json: Record<string, unknown> & { error?: { code: string } } }> => {
    const headers: Record<string, string> = { authorization: `Bearer ${o.token ?? OWNER}` };
    if (method !== 'GET') headers['x-agentboard-request'] = '1';
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    const r = await fetch(`${s.url}${path}`, {
      method,
      headers,
      ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
      ...(o.signal ? { signal: o.signal } : {}),
    });
    return { status: r.status, json: (await r.json()) as never };
  };
  const ask = (runId: string, token: string, body: Record<string, unknown>) =>
    call('POST', `/api/v1/runs/${runId}/approvals`, { token, body });
  const view = (r: { json: unknown }) => r.json as ApprovalView;

  before(async () => {
    s = await serve(board, clock);
  });
  after(() => s.close());

  it('a run asks with its token: pending; it can neither decide nor ask for another run', async () => {
    const mine = await runningRun(s.app);
    const other = await runningRun(s.app);
    const r = await ask(mine.runId, mine.token, {
      tool: 'Bash',
      input: { command: 'npm test -- --watch=false', description: 'run the tests' },
      toolUseId: 'toolu_1',
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    const a = view(r);
    assert.equal(a.state, 'pending');
    assert.equal(a.run, mine.runId);
    assert.deepEqual(a.subject, {
      kind: 'command',
      command: 'npm test -- --watch=false',
      description: 'run the tests',
    });
    assert.equal(a.suggestedRule, 'Bash(npm test:*)');

    for (const [what, path, body] of [
      ['allow', `/api/v1/approvals/${a.id}/allow`, {}],
      ['deny', `/api/v1/approvals/${a.id}/deny`, { message: 'no' }],
    ] as const) {
      const refused = await call('POST', path, { token: mine.token, body });
      assert.equal(refused.status, 403, `${what}: ${JSON.stringify(refused.json)}`);
      assert.equal(refused.json.error?.code, 'outside_run_scope');
    }
    const foreign = await ask(other.runId, mine.token, { tool: 'Bash', input: { command: 'ls' } });
    assert.equal(foreign.status, 403, JSON.stringify(foreign.json));
    assert.equal(foreign.json.error?.code, 'outside_run_scope');
    // Nothing changed: still pending, and no request was made for the other run.
    assert.equal(view(await call('GET', `/api/v1/approvals/${a.id}`)).state, 'pending');
    const list = await call('GET', '/api/v1/approvals?state=pending');
    const items = (list.json as unknown as { items: ApprovalView[] }).items;
    assert.ok(items.some((i) => i.id === a.id));
    assert.ok(!items.some((i) => i.run === other.runId));
  });

  it('the same toolUseId twice is one request', async () => {
    const r = await runningRun(s.app);
    const body = { tool: 'Bash', input: { command: 'make' }, toolUseId: 'toolu_same' };
    const first = view(await ask(r.runId, r.token, body));
    const again = view(await ask(r.runId, r.token, body));
    assert.equal(again.id, first.id);
    const all = await call('GET', `/api/v1/approvals?task=${first.task}`);
    assert.equal((all.json as unknown as { items: ApprovalView[] }).items.length, 1);
  });

  it('allow once, then always: the rule allows the next matching request at once, not another', async () => {
    const r = await runningRun(s.app);
    const once = view(
      await ask(r.runId, r.token, { tool: 'Bash', input: { command: 'npm test' } }),
    );
    const allowed = await call('POST', `/api/v1/approvals/${once.id}/allow`, {
      body: { by: 'ann' },
    });
    assert.equal(allowed.status, 200, JSON.stringify(allowed.json));
    assert.equal(view(allowed).state, 'allowed');
    assert.equal(view(allowed).decidedBy, 'ann');
    assert.equal(view(allowed).rule, null);
    // Allowed once only: the same command asks again.
    const second = view(
      await ask(r.runId, r.token, { tool: 'Bash', input: { command: 'npm test' } }),
    );
    assert.equal(second.state, 'pending');
    const always = await call('POST', `/api/v1/approvals/${second.id}/allow`, {
      body: { always: true, by: 'ann' },
    });
    assert.equal(view(always).rule, 'Bash(npm test:*)');
    const rules = await call('GET', `/api/v1/tasks/${second.task}/approval-rules`);
    const ruleItems = (rules.json as unknown as { items: { id: number; rule: string }[] }).items;
    assert.deepEqual(
      ruleItems.map((x) => x.rule),
      ['Bash(npm test:*)'],
    );

    const matching = view(
      await ask(r.runId, r.token, { tool: 'Bash', input: { command: 'npm test -- -t unit' } }),
    );
    assert.equal(matching.state, 'allowed');
    assert.equal(matching.decidedBy, 'rule:Bash(npm test:*)');
    for (const command of ['npm testx', 'npm test && rm -rf /', 'npm run build']) {
      const other = view(await ask(r.runId, r.token, { tool: 'Bash', input: { command } }));
      assert.equal(other.state, 'pending', command);
    }
    // Removing the rule: matching uses ask again.
    const ruleId = ruleItems[0]?.id;
    const removed = await call('DELETE', `/api/v1/tasks/${second.task}/approval-rules/${ruleId}`);
    assert.equal(removed.status, 200, JSON.stringify(removed.json));
    const after = view(
      await ask(r.runId, r.token, { tool: 'Bash', input: { command: 'npm test' } }),
    );
    assert.equal(after.state, 'pending');
  });

  it('always without a rule adds the suggestion, never a rule for every command or file', async () => {
    const r = await runningRun(s.app);
    const alwaysOn = async (tool: string, input: Record<string, unknown>) => {
      const a = view(await ask(r.runId, r.token, { tool, input }));
      return call('POST', `/api/v1/approvals/${a.id}/allow`, { body: { always: true } });
    };
    // Once `Bash` (every command) was suggested for these.
    for (const command of ['$(which npm) test', '`which npm` test', '> f cmd', '|| true']) {
      const res = await alwaysOn('Bash', { command });
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(view(res).rule, `Bash(${command})`);
    }
    const interp = await alwaysOn('Bash', { command: 'python -c print(1)' });
    assert.equal(view(interp).rule, 'Bash(python -c print(1))');
    const read = await alwaysOn('Read', { file_path: '/work/repo/src/x.ts' });
    assert.equal(view(read).rule, 'Read(src/x.ts)');
    // Nothing narrower to suggest: refused, the request stays pending.
    for (const [tool, input] of [
      ['Bash', { command: '' }],
      ['Read', {}],
      ['Edit', { old_string: 'a' }],
    ] as const) {
      const res = await alwaysOn(tool, input);
      assert.equal(res.status, 400, JSON.stringify(res.json));
      assert.match(
        String((res.json.error as { message?: string }).message),
        /allow it once, or write the rule/,
      );
    }
    const task = Number(view(read).task.slice(2));
    const rules = (await listRules(s.app, task)).map((x) => x.rule);
    assert.ok(!rules.some((x) => /^(Bash|Read|Edit)$/.test(x)), rules.join(', '));
    // A person may still write the whole tool, explicitly.
    const a = view(await ask(r.runId, r.token, { tool: 'Bash', input: { command: '' } }));
    const explicit = await call('POST', `/api/v1/approvals/${a.id}/allow`, {
      body: { rule: 'Bash' },
    });
    assert.equal(explicit.status, 200, JSON.stringify(explicit.json));
    assert.equal(view(explicit).rule, 'Bash');
    // Glued patterns are refused with what to do.
    const b = view(await ask(r.runId, r.token, { tool: 'Glob', input: { pattern: '*' } }));
    assert.equal(b.state, 'pending');
    const c = view(await ask(r.runId, r.token, { tool: 'Grep', input: { pattern: 'x' } }));
    const glued = await call('POST', `/api/v1/approvals/${c.id}/allow`, {
      body: { rule: 'Bash(a)(b)' },
    });
    assert.equal(glued.status, 400, JSON.stringify(glued.json));
    assert.match(JSON.stringify(glued.json), /parentheses in the pattern do not pair up/);
  });

  it('a request its run outlived is cancelled when someone decides it: 409, nothing allowed', async () => {
    for (const decision of ['allow', 'deny'] as const) {
      const r = await runningRun(s.app);
      const a = view(await ask(r.runId, r.token, { tool: 'Bash', input: { command: 'ls -la' } }));
      assert.equal(a.state, 'pending');
      // The run ended without cancelling it (as a finish that missed an uncommitted insert).
      await s.app.store.db
        .updateTable('runs')
        .set({ state: 'failed', ended_at: Date.now() })
        .where('id', '=', r.runId)
        .execute();
      const body = decision === 'allow' ? { always: true } : { message: 'no' };
      const res = await call('POST', `/api/v1/approvals/${a.id}/${decision}`, { body });
      assert.equal(res.status, 409, JSON.stringify(res.json));
      assert.equal(res.json.error?.code, 'approval_decided');
      assert.match(JSON.stringify(res.json), new RegExp(`run ${r.runId} ended \\(failed\\)`));
      const after = view(await call('GET', `/api/v1/approvals/${a.id}`));
      assert.equal(after.state, 'cancelled', decision);
      assert.equal(after.decidedBy, 'run-ended');
      assert.deepEqual(await listRules(s.app, Number(a.task.slice(2))), []);
      const again = await call('POST', `/api/v1/approvals/${a.id}/allow`, { body: {} });
      assert.equal(again.status, 409);
      assert.match(JSON.stringify(again.json), /already cancelled \(by run-ended/);
    }
  });

  it('deny with a message; a second decision is 409 approval_decided and changes nothing', async () => {
    const r = await runningRun(s.app);
    const a = view(
      await ask(r.runId, r.token, { tool: 'Bash', input: { command: 'rm -rf build' } }),
    );
    const denied = await call('POST', `/api/v1/approvals/${a.id}/deny`, {
      body: { message: 'use make clean instead', by: 'bob' },
    });
    assert.equal(denied.status, 200, JSON.stringify(denied.json));
    assert.equal(view(denied).state, 'denied');
    assert.equal(view(denied).message, 'use make clean instead');
    const before = view(await call('GET', `/api/v1/approvals/${a.id}`));
    for (const [path, body] of [
      [`/api/v1/approvals/${a.id}/allow`, { always: true }],
      [`/api/v1/approvals/${a.id}/deny`, { message: 'again' }],
    ] as const) {
      const twice = await call('POST', path, { body });
      assert.equal(twice.status, 409, JSON.stringify(twice.json));
      assert.equal(twice.json.error?.code, 'approval_decided');
    }
    assert.deepEqual(view(await call('GET', `/api/v1/approvals/${a.id}`)), before);
    const rules = await call('GET', `/api/v1/tasks/${a.task}/approval-rules`);
    assert.deepEqual((rules.json as unknown as { items: unknown[] }).items, []);
    const missing = await call('POST', '/api/v1/approvals/999999/allow', { body: {} });
    assert.equal(missing.status, 404);
  });

  it('a long-poll returns as soon as the request is decided, and at its timeout still pending', async () => {
    const r = await runningRun(s.app);
    const a = view(
      await ask(r.runId, r.token, {
        tool: 'Write',
        input: { file_path: '/work/repo/x.txt', content: 'hi\n' },
      }),
    );
    assert.deepEqual(a.subject, {
      kind: 'edit',
      file: '/work/repo/x.txt',
      diff: '--- /work/repo/x.txt\n+++ /work/repo/x.txt\n@@ -0,0 +1,1 @@\n+hi\n',
    });
    assert.equal(a.suggestedRule, 'Edit(x.txt)');
    const t0 = Date.now();
    const short = await call('GET', `/api/v1/approvals/${a.id}/wait?timeoutMs=300`, {
      token: r.token,
    });
    assert.equal(view(short).state, 'pending');
    assert.ok(Date.now() - t0 >= 250, 'held until its timeout');

    const started = Date.now();
    const waiting = call('GET', `/api/v1/approvals/${a.id}/wait?timeoutMs=60000`, {
      token: r.token,
    });
    await new Promise((res) => setTimeout(res, 200));
    await call('POST', `/api/v1/approvals/${a.id}/allow`, { body: {} });
    const done = await waiting;
    assert.equal(view(done).state, 'allowed');
    assert.ok(Date.now() - started < 20_000, `returned on the decision, not the timeout`);

    // A client that hangs up: the server lets go of it (the next request is served).
    const b = view(await ask(r.runId, r.token, { tool: 'Bash', input: { command: 'ls' } }));
    const gone = new AbortController();
    const abandoned = call('GET', `/api/v1/approvals/${b.id}/wait?timeoutMs=60000`, {
      signal: gone.signal,
    }).catch((e: Error) => e);
    await new Promise((res) => setTimeout(res, 100));
    gone.abort();
    assert.ok((await abandoned) instanceof Error);
    assert.equal(view(await call('GET', `/api/v1/approvals/${b.id}`)).state, 'pending');
  });

  it('a cancelled MCP call ends its wait: the remote board passes the abort signal to the request', async () => {
    const r = await runningRun(s.app);
    const board = remoteBoard(s.url, OWNER);
    const a = view(await ask(r.runId, r.token, { tool: 'Bash', input: { command: 'make' } }));
    // Bounded well below the wait's own 60 s, so a wait that ignores the signal fails here.
    const within = <T>(p: Promise<T>, what: string) =>
      Promise.race([
        p,
        new Promise<never>((_, no) =>
          setTimeout(() => no(new Error(`${what}: still waiting`)), 20_000).unref(),
        ),
      ]);
    const gone = new AbortController();
    const waiting = board.waitApproval(a.id, 60_000, gone.signal).then(
      () => 'answered',
      (e: unknown) => (gone.signal.aborted && e === gone.signal.reason ? 'aborted' : String(e)),
    );
    setTimeout(() => gone.abort(), 200);
    assert.equal(await within(waiting, 'waitApproval'), 'aborted');
    // The tool's loop: the same signal ends the wait, and the answer is a denial.
    const cancelled = new AbortController();
    const answer = decideApproval(
      board,
      r.runId,
      { tool_name: 'Bash', input: { command: 'make' }, tool_use_id: 'toolu_abort' },
      { signal: cancelled.signal },
    );
    setTimeout(() => cancelled.abort(), 200);
    assert.deepEqual(await within(answer, 'decideApproval'), {
      behavior: 'deny',
      message: 'the request was abandoned',
    });
    assert.equal(view(await call('GET', `/api/v1/approvals/${a.id}`)).state, 'pending');
  });

  it('approval_timeout expires a request with a message; other agents’ wait', async () => {
    const hasty = await runningRun(s.app, 'hasty');
    const patient = await runningRun(s.app, 'bot');
    const h = view(await ask(hasty.runId, hasty.token, { tool: 'Bash', input: { command: 'ls' } }));
    const p = view(
      await ask(patient.runId, patient.token, { tool: 'Bash', input: { command: 'ls' } }),
    );
    clock.t += 30_000;
    assert.equal(await expireApprovals(s.app), 0, 'not yet');
    clock.t += 31_000;
    assert.equal(await expireApprovals(s.app), 1);
    const expired = view(await call('GET', `/api/v1/approvals/${h.id}`));
    assert.equal(expired.state, 'expired');
    assert.equal(expired.decidedBy, 'timeout');
    assert.match(expired.message ?? '', /No one decided within 60s \(approval_timeout\)/);
    assert.equal(view(await call('GET', `/api/v1/approvals/${p.id}`)).state, 'pending');
    const metrics = await fetch(`${s.url}/metrics`, {
      headers: { authorization: `Bearer ${OWNER}` },
    });
    const text = await metrics.text();
    assert.match(text, /agentboard_approvals_pending \d+/);
    assert.match(text, /# TYPE agentboard_approvals_decided gauge/);
    assert.match(text, /agentboard_approvals_decided\{state="expired"\} 1/);
    assert.doesNotMatch(text, /agentboard_approvals_decided_total/);
    // Rows go (a task deleted, runs pruned): the gauge falls with them.
    await s.app.store.db.deleteFrom('approvals').where('id', '=', h.id).execute();
    const again = await fetch(`${s.url}/metrics`, {
      headers: { authorization: `Bearer ${OWNER}` },
    });
    assert.match(await again.text(), /agentboard_approvals_decided\{state="expired"\} 0/);
  });

  it('the run ending cancels its pending requests; then it cannot ask', async () => {
    const r = await runningRun(s.app);
    const a = view(await ask(r.runId, r.token, { tool: 'Bash', input: { command: 'ls -la' } }));
    const ended = await finishRun(s.app, r.runId, null, {
      state: 'failed',
      exitCode: 1,
      exitSignal: null,
      reason: 'exited with 1',
      retryable: false,
      stderrTail: '',
      complete: false,
      verified: false,
    });
    assert.equal(ended, true);
    const cancelled = view(await call('GET', `/api/v1/approvals/${a.id}`));
    assert.equal(cancelled.state, 'cancelled');
    assert.equal(cancelled.decidedBy, 'run-ended');
    const late = await call('POST', `/api/v1/approvals/${a.id}/allow`, { body: {} });
    assert.equal(late.status, 409);
    // Its token ended with it; the owner asking for an ended run is refused too.
    const owner = await call('POST', `/api/v1/runs/${r.runId}/approvals`, {
      body: { tool: 'Bash', input: { command: 'ls' } },
    });
    assert.equal(owner.status, 409);
    assert.equal(owner.json.error?.code, 'run_not_active');
  });

  it('a request survives closing the server and the store; allowing it after reopening works', async () => {
    const r = await runningRun(s.app);
    const a = view(
      await ask(r.runId, r.token, {
        tool: 'Bash',
        input: { command: 'deploy' },
        toolUseId: 'toolu_crash',
      }),
    );
    await s.close();
    s = await serve(board, clock);
    // The agent asks again after the restart: it gets its row back, still pending.
    const again = view(
      await ask(r.runId, r.token, {
        tool: 'Bash',
        input: { command: 'deploy' },
        toolUseId: 'toolu_crash',
      }),
    );
    assert.equal(again.id, a.id);
    assert.equal(again.state, 'pending');
    const waiting = call('GET', `/api/v1/approvals/${a.id}/wait?timeoutMs=60000`, {
      token: r.token,
    });
    const allowed = await call('POST', `/api/v1/approvals/${a.id}/allow`, { body: {} });
    assert.equal(allowed.status, 200);
    assert.equal(view(await waiting).state, 'allowed');
    // The card shows nothing pending for it any more; the task page lists it.
    const task = await call('GET', `/api/v1/tasks/${a.task}`);
    const approvals = (task.json as unknown as { approvals: ApprovalView[] }).approvals;
    assert.equal(approvals[0]?.id, a.id);
  });
});

describe('approvals on PostgreSQL', () => {
  let pgs: TestPostgres;
  let app: App;
  before(async () => {
    pgs = await startPostgres();
    app = await postgresBoard(await pgs.createDatabase()).open({
      config: testConfig({
        board: { autostart: false },
        agents: { bot: { kind: 'command', command: 'true' } },
      }),
    });
  });
  after(async () => {
    await app?.store.close();
    await pgs?.close();
  });

  it('a request asked while its run ends is refused or cancelled, never left pending', async () => {
    const r = await runningRun(app);
    let release = () => {};
    const gate = new Promise<void>((res) => {
      release = res;
    });
    let ended = () => {};
    const inTx = new Promise<void>((res) => {
      ended = res;
    });
    // The run's end, written but not committed yet: its cancel has seen no request.
    const finish = app.store.tx(async (tx) => {
      const run = await getRun(tx.db, r.runId);
      assert.ok(run);
      await finishRunInTx(app, tx, run, {
        state: 'failed',
        exitCode: 1,
        exitSignal: null,
        reason: 'exited with 1',
        retryable: false,
        stderrTail: '',
        complete: false,
        verified: false,
      });
      ended();
      await gate;
    });
    await inTx;
    const asked = requestApproval(app, r.runId, { tool: 'Bash', input: { command: 'ls' } }).then(
      (v) => v,
      (e: unknown) => e,
    );
    // Unlocked, the request is stored before the end commits; give it that chance.
    await Promise.race([asked, new Promise((res) => setTimeout(res, 2_000))]);
    release();
    await finish;
    const out = await asked;
    assert.ok(out instanceof AgentboardError, `expected a refusal, got ${JSON.stringify(out)}`);
    assert.equal(out.code, 'run_not_active');
    const rows = await app.store.db
      .selectFrom('approvals')
      .select('state')
      .where('run_id', '=', r.runId)
      .execute();
    assert.deepEqual(rows, []);
  });
});
