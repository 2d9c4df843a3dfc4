/**
 * Review on the web board: a worktree board in a real git repository whose
 * `command` agent commits a change. On the task's Review tab a line comment
 * and Request changes queue a run (trigger review) whose prompt holds the
 * comment; Merge moves the base branch; a conflicting merge lists the files
 * and changes nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newPage, until, WebBoard } from './browser.js';

/** The README's picture of the Review tab, taken when AB_SCREENSHOTS=1. */
const DOC_IMAGE = fileURLToPath(new URL('../../../docs/images/review.png', import.meta.url));

/**
 * Keeps its prompt in $OUT/<run>.prompt, writes the files its task's plan
 * names and commits (an empty commit when a later run changes nothing).
 */
const AGENT = `
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
const run = process.env.AGENTBOARD_RUN_ID;
const task = process.env.AGENTBOARD_TASK_ID;
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
fs.writeFileSync(process.env.OUT + '/' + run + '.prompt', Buffer.concat(chunks));
const plan = JSON.parse(fs.readFileSync(process.env.PLAN, 'utf8'))[task] ?? {};
for (const [name, content] of Object.entries(plan)) {
  fs.mkdirSync(name.split('/').slice(0, -1).join('/') || '.', { recursive: true });
  fs.writeFileSync(name, content);
}
const git = (...a) => execFileSync('git', ['-c', 'user.name=Agent', '-c', 'user.email=agent@example.com', ...a]);
git('add', '--all');
git('commit', '--quiet', '--allow-empty', '-m', 'work of ' + run);
console.log('committed the work of ' + run);
`;

const GREET = [
  "import { format } from './format.js';",
  '',
  '/** Says hello. */',
  'export function greet(name: string): string {',
  "  const greeting = 'Hello';",
  "  return format(greeting + ', ' + name, 42);",
  '}',
  '',
].join('\n');

interface TaskJson {
  id: string;
  status: string;
  runs: { id: string; state: string; trigger: string }[];
}

describe('review on the web board', { timeout: 300_000 }, () => {
  let board: WebBoard;
  let browser: Browser;
  let page: Page;
  let errors: string[];
  let out: string;
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=User', '-c', 'user.email=user@example.com', ...args], {
      cwd: board.repo,
      encoding: 'utf8',
    }).trim();

  before(async () => {
    board = new WebBoard({}, { worktree: true });
    out = path.join(board.root, 'out');
    fs.mkdirSync(out);
    const script = path.join(board.root, 'committing-agent.mjs');
    fs.writeFileSync(script, AGENT);
    const plan = path.join(board.root, 'commit-plan.json');
    fs.writeFileSync(
      plan,
      JSON.stringify({
        'T-1': {
          'src/greet.ts': GREET,
          'data/big.txt': Array.from({ length: 450 }, (_, i) => `row ${i + 1}\n`).join(''),
        },
        'T-2': { 'README.md': '# Project\n\nText from the agent.\n' },
      }),
    );
    // A local bare repository stands in for GitHub, and a script for `gh pr create`.
    const remote = path.join(board.root, 'remote.git');
    execFileSync('git', ['init', '--quiet', '--bare', remote]);
    git('remote', 'add', 'origin', remote);
    const gh = path.join(board.root, 'gh-pr.mjs');
    fs.writeFileSync(
      gh,
      "console.log('Creating pull request...');\nconsole.log('https://git.example.test/pulls/7?head=' + process.argv[2]);\n",
    );
    const config = {
      agents: {
        coder: {
          kind: 'command',
          command: process.execPath,
          args: [script],
          max_concurrency: 4,
          env: { OUT: out, PLAN: plan },
        },
      },
      defaults: { agent: 'coder', max_attempts: 1, stop_grace: '2s', lease: '5s' },
      board: {
        autostart: true,
        max_concurrency: 4,
        on_success: 'review',
        workspace: 'worktree',
        remote: 'origin',
        pr_command: [process.execPath, gh, '{branch}'],
      },
    };
    fs.writeFileSync(path.join(board.home, 'config.yaml'), JSON.stringify(config, null, 2));
    await board.start();
    browser = await launchChromium();
    const p = await newPage(browser);
    page = p.page;
    errors = p.errors;
    await board.login(page);
    await board.api('/tasks', { method: 'POST', body: { title: 'Add greet', status: 'todo' } });
    await board.api('/tasks', { method: 'POST', body: { title: 'Reword', status: 'todo' } });
  });

  after(async () => {
    await browser?.close();
    await board?.stop();
  });

  const task = (id: string) => board.api<TaskJson>(`/tasks/${id}`);
  const inReview = (id: string, runs: number) =>
    until(`${id} to reach Review after ${runs} runs`, async () => {
      const t = await task(id);
      return t.status === 'review' && t.runs.length === runs ? t : undefined;
    });

  it('shows the branch’s diff, coloured, unified or split (remembered)', async () => {
    const t = await inReview('T-1', 1);
    assert.equal(t.runs[0]?.state, 'succeeded');
    await page.goto(`${board.url}/tasks/T-1`);
    await page.getByRole('tab', { name: 'Review' }).click();
    const file = page.locator('[data-testid="review-file"][data-path="src/greet.ts"]');
    await file.waitFor();
    assert.match(
      (await page.getByRole('list', { name: 'Changed files' }).textContent()) ?? '',
      /src\/greet\.ts\s*\+7/,
    );
    assert.equal(await file.locator('.hl-keyword', { hasText: 'function' }).count(), 1);
    assert.equal(await file.locator('.hl-string', { hasText: "'Hello'" }).count(), 1);
    assert.equal(await file.locator('.hl-comment', { hasText: 'Says hello' }).count(), 1);
    assert.equal(await file.locator('.hl-number', { hasText: '42' }).count(), 1);

    // Over 400 changed lines: collapsed until asked for.
    const big = page.locator('[data-testid="review-file"][data-path="data/big.txt"]');
    assert.match((await big.textContent()) ?? '', /450 changed lines: collapsed/);
    assert.equal(await big.locator('tr.rv-line').count(), 0);
    await big.getByRole('button', { name: 'Show', exact: true }).click();
    assert.equal(await big.locator('tr.rv-line').count(), 450);
    await big.getByRole('button', { name: 'Hide data/big.txt' }).click();

    await page.getByRole('button', { name: 'Split' }).click();
    await file.locator('table.rv-split').waitFor();
    await page.reload();
    await page.locator('[data-testid="review-file"] table.rv-split').first().waitFor();
    await page.getByRole('button', { name: 'Unified' }).click();
    await file.locator('table.rv-unified').waitFor();
  });

  it('adds line comments by the gutter and by Enter, shown under their lines', async () => {
    const file = page.locator('[data-testid="review-file"][data-path="src/greet.ts"]');
    await file.getByRole('button', { name: 'Comment on line 5 of src/greet.ts' }).click();
    await page.getByRole('textbox', { name: /Comment on line 5/ }).fill('Call it `salutation`.');
    await page.getByRole('button', { name: 'Add comment' }).click();
    const draft = file.locator('[data-testid="draft-comment"]');
    await draft.waitFor();
    assert.match((await draft.textContent()) ?? '', /salutation/);

    // The keyboard: one line per file is a tab stop (not every line); arrows move, Enter comments.
    const stops = file.locator('tr.rv-line[tabindex="0"]');
    assert.equal(await stops.count(), 1);
    assert.equal(
      await page.locator('[data-testid="review-tab"] .rv-line[tabindex="0"]').count(),
      await page.locator('[data-testid="review-file"] table').count(),
      'one tab stop per shown file',
    );
    await stops.focus();
    await page.keyboard.press('Home');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowDown');
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute('data-line')),
      'new:6',
    );
    assert.equal(await file.locator('tr[data-line="new:6"]').getAttribute('tabindex'), '0');
    assert.equal(await stops.count(), 1, 'the tab stop moved with the focus');
    await page.keyboard.press('Enter');
    await page.getByRole('textbox', { name: /Comment on line 6/ }).fill('Why 42?');
    await page.getByRole('button', { name: 'Add comment' }).click();
    await until('two drafts', async () => (await draft.count()) === 2);
    const review = await board.api<{ draft: { line: number; quote: string; side: string }[] }>(
      '/tasks/T-1/review',
    );
    assert.deepEqual(review.draft.map((c) => [c.line, c.side, c.quote]).sort(), [
      [5, 'new', "  const greeting = 'Hello';"],
      [6, 'new', "  return format(greeting + ', ' + name, 42);"],
    ]);
    if (process.env.AB_SCREENSHOTS === '1') {
      fs.mkdirSync(path.dirname(DOC_IMAGE), { recursive: true });
      await page.setViewportSize({ width: 1280, height: 1100 });
      await page.getByRole('tablist', { name: 'Task views' }).evaluate((e) => e.scrollIntoView());
      await page.screenshot({ path: DOC_IMAGE });
      await page.setViewportSize({ width: 1280, height: 800 });
    }
  });

  it('Request changes queues a review run whose prompt holds the comments', async () => {
    await page.getByRole('textbox', { name: /Overall comment/ }).fill('Nearly there.');
    await page.getByRole('button', { name: 'Request changes' }).click();
    await page.locator('[data-testid="review-outcome"]', { hasText: /queued/ }).waitFor();
    const t = await inReview('T-1', 2);
    const run = t.runs.find((r) => r.trigger === 'review');
    assert.ok(run, `no run with trigger review in ${JSON.stringify(t.runs)}`);
    const prompt = fs.readFileSync(path.join(out, `${run.id}.prompt`), 'utf8');
    assert.match(prompt, /Call it `salutation`\./);
    assert.match(prompt, /Why 42\?/);
    assert.match(prompt, /src\/greet\.ts/);
    assert.match(prompt, /const greeting = 'Hello';/);
    assert.match(prompt, /Nearly there\./);
    // Sent: no drafts left on the page.
    await page.locator('[data-testid="draft-comment"]').first().waitFor({ state: 'detached' });
  });

  it('Merge moves the base branch', async () => {
    const before = git('rev-parse', 'main');
    const ws = await board.api<{ branch: string; base: string }>('/tasks/T-1/workspace');
    assert.equal(ws.base, 'main');
    const branchHead = git('rev-parse', ws.branch);
    await page.getByRole('button', { name: 'Merge', exact: true }).click();
    await page.locator('[data-testid="review-outcome"]', { hasText: /Merged into main/ }).waitFor();
    const afterMerge = git('rev-parse', 'main');
    assert.notEqual(afterMerge, before);
    // The branch's commits are in main now.
    git('merge-base', '--is-ancestor', branchHead, 'main');
    assert.ok(fs.existsSync(path.join(board.repo, 'src', 'greet.ts')));
  });

  it('a conflicting merge lists the files and changes nothing', async () => {
    await inReview('T-2', 1);
    fs.writeFileSync(path.join(board.repo, 'README.md'), '# Project\n\nText from the owner.\n');
    git('commit', '--quiet', '--all', '-m', 'owner edits the README');
    const base = git('rev-parse', 'main');
    const status = git('status', '--porcelain');
    await page.goto(`${board.url}/tasks/T-2?tab=review`);
    await page.locator('[data-testid="review-file"][data-path="README.md"]').waitFor();
    await page.getByRole('button', { name: 'Merge', exact: true }).click();
    const conflict = page.locator('[data-testid="merge-conflict"]');
    await conflict.waitFor();
    assert.match((await conflict.textContent()) ?? '', /Nothing was changed/);
    assert.equal(await conflict.locator('li', { hasText: 'README.md' }).count(), 1);
    assert.equal(git('rev-parse', 'main'), base);
    assert.equal(git('status', '--porcelain'), status);
    assert.equal((await task('T-2')).status, 'review');
  });

  it('pushes the branch, opens a pull request, and the card links to it', async () => {
    const ws = await board.api<{ branch: string }>('/tasks/T-2/workspace');
    await page.getByRole('button', { name: 'Push branch' }).click();
    await page
      .locator('[data-testid="review-outcome"]', { hasText: /Pushed .* to origin/ })
      .waitFor();
    const remote = path.join(board.root, 'remote.git');
    assert.equal(
      execFileSync('git', ['--git-dir', remote, 'rev-parse', ws.branch], {
        encoding: 'utf8',
      }).trim(),
      git('rev-parse', ws.branch),
    );
    await page.getByRole('button', { name: 'Open pull request' }).click();
    const url = `https://git.example.test/pulls/7?head=${ws.branch}`;
    const opened = page.locator('[data-testid="review-outcome"] a');
    await opened.waitFor();
    assert.equal(await opened.getAttribute('href'), url);
    const detail = await board.api<{ pullRequestUrl: string | null }>('/tasks/T-2');
    assert.equal(detail.pullRequestUrl, url);
    await page.locator('[data-testid="task-pr"]').waitFor();
    await page.goto(`${board.url}/`);
    const link = page.locator('.card[data-task-id="T-2"] [data-testid="card-pr"]');
    await link.waitFor();
    assert.equal(await link.getAttribute('href'), url);
    await page.goto(`${board.url}/tasks/T-2?tab=review`);
  });

  it('asks before Discard and Delete task, and Cancel changes nothing', async () => {
    const ws = await board.api<{ branch: string }>('/tasks/T-2/workspace');
    await page.getByRole('button', { name: 'Discard…' }).click();
    const dialog = page.getByRole('dialog', { name: "Discard T-2's work?" });
    await dialog.waitFor();
    // Focus is inside the dialog, on the safe answer; Escape cancels and gives focus back.
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Cancel');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Discard…');
    const hasBranch = () => git('branch', '--list', '--format=%(refname:short)', ws.branch) !== '';
    assert.equal(hasBranch(), true);

    await page.getByRole('button', { name: 'Discard…' }).click();
    await dialog.getByRole('button', { name: 'Discard', exact: true }).click();
    await page.locator('[data-testid="review-outcome"]', { hasText: /Discarded/ }).waitFor();
    assert.equal(hasBranch(), false);

    // A task that never ran (so has no worktree), deleted from its page.
    await board.api('/tasks', { method: 'POST', body: { title: 'Clutter', status: 'backlog' } });
    await page.goto(`${board.url}/tasks/T-3?tab=review`);
    await page.getByRole('button', { name: 'Delete task…' }).click();
    const del = page.getByRole('dialog', { name: 'Delete T-3?' });
    await del.getByRole('button', { name: 'Cancel' }).click();
    await del.waitFor({ state: 'detached' });
    assert.equal((await task('T-3')).id, 'T-3');
    await page.getByRole('button', { name: 'Delete task…' }).click();
    await del.getByRole('button', { name: 'Delete task' }).click();
    const outcome = page.locator('[data-testid="review-outcome"]');
    await until('the board after the deletion', async () => {
      if (await outcome.isVisible()) throw new Error(`not deleted: ${await outcome.textContent()}`);
      return new URL(page.url()).pathname === '/';
    });
    await assert.rejects(task('T-3'), /404/);
    assert.deepEqual(errors, []);
  });
});
