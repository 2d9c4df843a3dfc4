/**
 * With a git worktree per task, a finished run's page has a Diff tab: the
 * files the run changed with their line counts, and the patch.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { DESKTOP, launchChromium, newPage, screenshot, WebBoard } from './browser.js';

let board: WebBoard;
let browser: Browser;

before(async () => {
  board = new WebBoard(
    {
      default: {
        lines: 2,
        delayMs: 50,
        write: { 'README.md': '# Project\n\nNew text from the agent.\n', 'notes.txt': 'a\nb\n' },
      },
    },
    { worktree: true },
  );
  await board.start();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await board?.stop();
});

it('shows what a worktree run changed in its Diff tab', { timeout: 90_000 }, async () => {
  await board.api('/tasks', { method: 'POST', body: { title: 'Edit the README', status: 'todo' } });
  const { page, context, errors } = await newPage(browser, { viewport: DESKTOP });
  await board.login(page);
  await page.goto(`${board.url}/tasks/T-1`);
  await page.locator('[data-testid="task-status"]', { hasText: 'Review' }).waitFor({
    timeout: 30_000,
  });
  await page.getByRole('tab', { name: 'Diff' }).click();
  const diff = page.locator('[data-testid="diff"]');
  await diff.getByText('notes.txt').first().waitFor();
  await diff.locator('.d-add', { hasText: 'New text from the agent.' }).waitFor();
  await diff.locator('.d-del', { hasText: 'Old text.' }).waitFor();
  assert.match((await diff.locator('.diff-files').textContent()) ?? '', /2 files/);
  await screenshot(page, 'desktop-light-task-diff');
  assert.deepEqual(errors, []);
  await context.close();
});
