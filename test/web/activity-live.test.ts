/**
 * The board's live feed carries every event type the contract has: here the
 * schedule.* and workspace.* ones, which the feed once dropped, reach the
 * Activity panel of an open page without a reload.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, newPage, WebBoard } from './browser.js';

describe('live activity: schedule and workspace events', { timeout: 180_000 }, () => {
  let board: WebBoard;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  before(async () => {
    board = new WebBoard({ default: { lines: 1, delayMs: 50 } }, { worktree: true });
    await board.start();
    browser = await launchChromium();
    const p = await newPage(browser);
    page = p.page;
    pageErrors = p.errors;
    await board.login(page);
    await page.goto(`${board.url}/activity`);
    await page.locator('[data-testid="feed-status"]', { hasText: 'live' }).waitFor({
      timeout: 30_000,
    });
  });

  after(async () => {
    await browser?.close();
    await board?.stop();
  });

  const activity = () => page.locator('[data-testid="activity"]');

  it('shows a schedule added and removed while the page is open', async () => {
    const loads: string[] = [];
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) loads.push(f.url());
    });
    const s = await board.api<{ id: string }>('/schedules', {
      method: 'POST',
      body: { cron: '0 3 * * *', prompt: 'nightly tidy' },
    });
    await activity()
      .locator('li.ev-schedule', { hasText: `schedule ${s.id} added (0 3 * * *)` })
      .waitFor({ timeout: 30_000 });
    await board.api(`/schedules/${s.id}`, { method: 'DELETE' });
    await activity()
      .locator('li.ev-schedule', { hasText: `schedule ${s.id} removed` })
      .waitFor({ timeout: 30_000 });
    assert.deepEqual(loads, [], 'the page reloaded instead of receiving the events live');
  });

  it('shows the worktree a run creates for its task', async () => {
    const t = await board.api<{ id: string }>('/tasks', {
      method: 'POST',
      body: { title: 'work in a worktree', status: 'todo', agent: 'bot' },
    });
    const created = activity().locator('li.ev-workspace', { hasText: 'workspace created' });
    await created.waitFor({ timeout: 60_000 });
    // Linked to its task, like every task event.
    assert.equal(await created.locator('a').first().textContent(), t.id);
    assert.deepEqual(pageErrors, []);
  });
});
