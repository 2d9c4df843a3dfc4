/**
 * Approvals on the web board: a `command` agent asks the board to decide a
 * tool use and waits on the answer; the card says Needs approval, the
 * board's filter finds it, and the task page allows or denies it. The agent
 * is a small script (written below) doing what an approval hook does over
 * the API with its run's token.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newPage, until, WebBoard } from './browser.js';

/** The README's picture of the approval panel, taken when AB_SCREENSHOTS=1. */
const DOC_IMAGE = fileURLToPath(new URL('../../../docs/images/approval.png', import.meta.url));

/** Asks for `Bash(npm test)`, waits for the decision, and records it in $OUT/<task>.json. */
const AGENT = `
import fs from 'node:fs';
const { AGENTBOARD_URL: url, AGENTBOARD_TOKEN: token, AGENTBOARD_RUN_ID: run } = process.env;
const task = process.env.AGENTBOARD_TASK_ID;
const out = (name, v) => fs.writeFileSync(process.env.OUT + '/' + task + '-' + name, v);
const headers = { authorization: 'Bearer ' + token, 'content-type': 'application/json', 'x-agentboard-request': '1' };
const call = async (method, p, body) => {
  const res = await fetch(url + '/api/v1' + p, { method, headers: body ? headers : { authorization: headers.authorization }, body: body && JSON.stringify(body) });
  const text = await res.text();
  if (!res.ok) { out('error', method + ' ' + p + ' ' + res.status + ' ' + text); process.exit(9); }
  return JSON.parse(text);
};
console.log('asking to run npm test');
let a = await call('POST', '/runs/' + run + '/approvals', {
  tool: 'Bash', input: { command: 'npm test -- --grep approvals', description: 'Run the approval tests', run_in_background: true, timeout: 600000 }, toolUseId: 'tool-1',
});
while (a.state === 'pending') a = await call('GET', '/approvals/' + a.id + '/wait?timeoutMs=20000');
if (a.state === 'allowed') {
  out('ran', 'npm test ran\\n');
  console.log('allowed: ran npm test');
} else {
  out('denied', a.message ?? '');
  console.log('denied: ' + (a.message ?? ''));
}
process.exit(0);
`;

interface TaskJson {
  id: string;
  status: string;
  runs: { id: string; state: string }[];
}

describe('approvals on the web board', { timeout: 300_000 }, () => {
  let board: WebBoard;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let out: string;

  before(async () => {
    board = new WebBoard({});
    out = path.join(board.root, 'out');
    fs.mkdirSync(out);
    const script = path.join(board.root, 'asking-agent.mjs');
    fs.writeFileSync(script, AGENT);
    const config = {
      agents: {
        asker: {
          kind: 'command',
          command: process.execPath,
          args: [script],
          max_concurrency: 4,
          env: { OUT: out },
        },
      },
      defaults: { agent: 'asker', max_attempts: 1, stop_grace: '2s', lease: '5s' },
      board: { autostart: true, max_concurrency: 4, on_success: 'review' },
    };
    fs.writeFileSync(path.join(board.home, 'config.yaml'), JSON.stringify(config, null, 2));
    await board.start();
    browser = await launchChromium();
    const p = await newPage(browser);
    page = p.page;
    errors = p.errors;
    await board.login(page);
  });

  after(async () => {
    await browser?.close();
    await board?.stop();
  });

  const task = (id: string) => board.api<TaskJson>(`/tasks/${id}`);

  it('shows Needs approval on the card, and the filter finds it (not a column)', async () => {
    await board.api('/tasks', { method: 'POST', body: { title: 'Not asking', status: 'backlog' } });
    await board.api('/tasks', { method: 'POST', body: { title: 'Run the tests', status: 'todo' } });
    const card = page.locator('.card[data-task-id="T-2"]');
    const badge = card.locator('[data-testid="card-approval"]');
    await badge.waitFor({ timeout: 60_000 });
    assert.match((await badge.textContent()) ?? '', /Needs approval/);
    // Still In Progress: its run is running, waiting on a person.
    assert.equal(await card.getAttribute('data-status'), 'in_progress');
    assert.equal(
      await page.locator('[data-column="in_progress"] .card[data-task-id="T-2"]').count(),
      1,
    );
    // The wait shows as a time, and grows.
    await until('the wait to reach 2s', async () =>
      /· (\d+)s/.exec((await badge.textContent()) ?? '')?.[1]
        ? Number(/· (\d+)s/.exec((await badge.textContent()) ?? '')?.[1]) >= 2
        : false,
    );

    await page.getByRole('checkbox', { name: 'Needs approval' }).check();
    await page.locator('.card[data-task-id="T-1"]').waitFor({ state: 'detached' });
    await card.waitFor();
    assert.equal(await page.locator('.card').count(), 1);
    await page.getByRole('checkbox', { name: 'Needs approval' }).uncheck();
    await page.locator('.card[data-task-id="T-1"]').waitFor();
  });

  it('allows once from the task page, and the run goes on to succeed', async () => {
    await page.goto(`${board.url}/tasks/T-2`);
    const panel = page.locator('[data-testid="approvals"]');
    const req = panel.locator('[data-testid="approval-pending"]');
    await req.waitFor();
    assert.match((await req.textContent()) ?? '', /Bash/);
    assert.equal(
      await req.locator('[data-testid="approval-command"]').textContent(),
      'npm test -- --grep approvals',
    );
    // Input that changes what the tool does is shown too, not only the command.
    assert.deepEqual(await req.locator('[data-testid="approval-input"] > div').allTextContents(), [
      'run_in_background: true',
      'timeout: 600000',
    ]);
    assert.match((await req.textContent()) ?? '', /waiting \d+/);
    // "Always allow" offers the suggested rule, editable, before it is sent.
    await req.getByRole('button', { name: /Always allow for this task/ }).click();
    const rule = req.getByRole('textbox', { name: /Rule/ });
    assert.match(await rule.inputValue(), /^Bash/);
    await req.getByRole('button', { name: /Always allow for this task/ }).click();
    if (process.env.AB_SCREENSHOTS === '1') {
      fs.mkdirSync(path.dirname(DOC_IMAGE), { recursive: true });
      await page.screenshot({ path: DOC_IMAGE });
    }

    await req.getByRole('button', { name: 'Allow once' }).click();
    await until('the agent to run the command', async () =>
      fs.existsSync(path.join(out, 'T-2-ran')),
    );
    const t = await until('T-2 to reach Review', async () => {
      const x = await task('T-2');
      return x.status === 'review' ? x : undefined;
    });
    assert.equal(t.runs.at(-1)?.state, 'succeeded');
    assert.equal(fs.existsSync(path.join(out, 'T-2-error')), false);
    await page.locator('[data-testid="task-status"]', { hasText: 'Review' }).waitFor();
    await req.waitFor({ state: 'detached' });
    await panel.getByText(/1 decided request/).click();
    assert.match(
      (await panel.locator('[data-testid="approval-decided"]').textContent()) ?? '',
      /allowed/,
    );
    // Off the filter once decided.
    const pending = await board.api<{ items: unknown[] }>('/approvals?state=pending');
    assert.equal(pending.items.length, 0);
    // The run's transcript shows the request and the decision, with who decided.
    const lines = page.locator('[data-testid="transcript-approval"]');
    await until('the approval lines in the transcript', async () => (await lines.count()) >= 2);
    assert.match((await lines.first().textContent()) ?? '', /Bash waits for a person/);
    assert.match((await lines.nth(1).textContent()) ?? '', /Bash allowed by user/);
  });

  it('denies with a message, which the agent receives', async () => {
    await board.api('/tasks', { method: 'POST', body: { title: 'Deny me', status: 'todo' } });
    await page.goto(`${board.url}/tasks/T-3`);
    const req = page.locator('[data-testid="approval-pending"]');
    await req.waitFor({ timeout: 60_000 });
    await req.getByRole('button', { name: /Deny with a message/ }).click();
    const send = req.getByRole('button', { name: 'Deny', exact: true });
    // The message is required: no denial without one.
    assert.equal(await send.isDisabled(), true);
    const message = 'Do not run the whole suite: run node --test test/x.test.js instead.';
    await req.getByRole('textbox', { name: /Message to the agent/ }).fill(message);
    await send.click();
    const got = await until('the agent to receive the denial', async () => {
      const f = path.join(out, 'T-3-denied');
      return (fs.existsSync(f) && fs.readFileSync(f, 'utf8')) || undefined;
    });
    assert.equal(got, message);
    assert.equal(fs.existsSync(path.join(out, 'T-3-ran')), false);
    await req.waitFor({ state: 'detached' });
    await page.getByText(/1 decided request/).click();
    const decided = page.locator('[data-testid="approval-decided"]');
    assert.match((await decided.textContent()) ?? '', /denied/);
    assert.match((await decided.textContent()) ?? '', /run node --test/);
  });

  it('always allows with an edited rule, listed on the task with Remove', async () => {
    await board.api('/tasks', { method: 'POST', body: { title: 'Trust me', status: 'todo' } });
    await page.goto(`${board.url}/tasks/T-4`);
    const req = page.locator('[data-testid="approval-pending"]');
    await req.waitFor({ timeout: 60_000 });
    await req.getByRole('button', { name: /Always allow for this task/ }).click();
    await req.getByRole('textbox', { name: /Rule/ }).fill('Bash(npm test:*)');
    await req.getByRole('button', { name: 'Always allow', exact: true }).click();
    await until('the agent to run the command', async () =>
      fs.existsSync(path.join(out, 'T-4-ran')),
    );
    const rule = page.locator('[data-testid="approval-rule"]');
    await rule.waitFor();
    assert.match((await rule.textContent()) ?? '', /Bash\(npm test:\*\)/);
    const rules = await board.api<{ items: { rule: string }[] }>('/tasks/T-4/approval-rules');
    assert.deepEqual(
      rules.items.map((r) => r.rule),
      ['Bash(npm test:*)'],
    );
    await rule.getByRole('button', { name: 'Remove rule Bash(npm test:*)' }).click();
    await rule.waitFor({ state: 'detached' });
    const left = await board.api<{ items: unknown[] }>('/tasks/T-4/approval-rules');
    assert.deepEqual(left.items, []);
    assert.deepEqual(errors, []);
  });
});
