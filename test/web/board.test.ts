/**
 * The web board end to end: a real `agentboard serve`, the scripted agent,
 * and chromium. Each step is one acceptance bullet of the board; the steps
 * share one board and run in order.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import {
  columnTop,
  DESKTOP,
  dragTo,
  launchChromium,
  newPage,
  PHONE,
  screenshot,
  until,
  WebBoard,
} from './browser.js';

interface TaskJson {
  id: string;
  status: string;
  statusReason: string | null;
  runs?: { id: string; state: string; errorSummary: string | null }[];
}

const text = async (l: Locator) => (await l.textContent()) ?? '';
const card = (status: string, id: string) =>
  `[data-column="${status}"] .card[data-task-id="${id}"]`;

describe('web board', { timeout: 240_000 }, () => {
  let board: WebBoard;
  let browser: Browser;
  let page: Page;
  let pageErrors: string[];

  before(async () => {
    board = new WebBoard({
      default: { lines: 3, delayMs: 100 },
      'T-1': { lines: 40, delayMs: 250 },
      'T-2': { lines: 2, delayMs: 100, exit: 3 },
    });
    await board.start();
    browser = await launchChromium();
    const p = await newPage(browser);
    page = p.page;
    pageErrors = p.errors;
    await board.login(page);
  });

  after(async () => {
    await browser?.close();
    await board?.stop();
  });

  it('shows an empty board that says what to do', async () => {
    await page.goto(`${board.url}/`);
    const empty = page.locator('[data-testid="board-empty"]');
    await empty.waitFor();
    assert.match(await text(empty), /New task/);
    await page.locator('[data-testid="feed-status"]', { hasText: 'live' }).waitFor();
  });

  it('creates a task in the dialog and drags it to Todo, where it runs live', async () => {
    await page.getByRole('button', { name: 'New task' }).click();
    await page.locator('input[name="title"]').fill('Write the README');
    await page.getByLabel('Body (markdown)').fill('# Goal\nExplain **agentboard** to a newcomer.');
    await page.locator('select[name="agent"]').selectOption('bot');
    await page.locator('select[name="priority"]').selectOption('high');
    await page.locator('input[name="labels"]').fill('docs, web');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.locator(card('backlog', 'T-1')).waitFor();
    assert.equal((await board.api<TaskJson>('/tasks/T-1')).status, 'backlog');

    await dragTo(page, card('backlog', 'T-1'), await columnTop(page, 'todo'));
    // Autostart: the card goes through Todo to In Progress, with a spinner while it runs.
    await page.locator(`${card('in_progress', 'T-1')} .spinner`).waitFor({ timeout: 20_000 });
    const t = await board.api<TaskJson>('/tasks/T-1');
    assert.equal(t.status, 'in_progress');
    assert.equal(t.runs?.length, 1);
    const cardText = await text(page.locator(card('in_progress', 'T-1')));
    assert.match(cardText, /attempt 1\/2/);
    assert.match(cardText, /@bot/);
    assert.match(cardText, /docs/);
  });

  it('opens the transcript while it streams: messages, tool calls, thinking, raw stderr', async () => {
    await page.locator(`${card('in_progress', 'T-1')} .card-title`).click();
    await page.waitForURL(/\/tasks\/T-1$/);
    const transcript = page.locator('.transcript');
    await transcript.getByText('progress 2 of 40').waitFor();
    const count = () => transcript.getByText(/^progress \d+ of 40$/).count();
    const seen = await count();
    // Still streaming: more progress lines arrive without a reload.
    await until('more transcript lines', async () => (await count()) > seen);
    await page.locator('.tr-thinking').first().waitFor();
    await page.locator('.tool-head', { hasText: 'Bash' }).click();
    await page.locator('.tool-body', { hasText: 'README.md' }).waitFor();
    await screenshot(page, 'desktop-light-task-transcript');

    await page.getByRole('tab', { name: 'Raw stderr' }).click();
    const coloured = page.locator('.raw-line span', { hasText: 'info' }).first();
    await coloured.waitFor();
    assert.match((await coloured.getAttribute('style')) ?? '', /color/);
    await page.getByRole('tab', { name: 'Transcript' }).click();
  });

  it('stops the run (the card goes to Blocked), then retries it', async () => {
    await page.getByRole('button', { name: 'Stop' }).click();
    await page.locator('[data-testid="task-status"]', { hasText: 'Blocked' }).waitFor({
      timeout: 20_000,
    });
    assert.match(await text(page.locator('[data-testid="status-reason"]')), /stop/i);
    board.setPlan({
      default: { lines: 3, delayMs: 100 },
      'T-1': { lines: 6, delayMs: 150 },
      'T-2': { lines: 2, delayMs: 100, exit: 3 },
    });
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.locator('[data-testid="run-history"] li').nth(1).waitFor();
    // The retried run ends well: the card lands in Review.
    await page.locator('[data-testid="task-status"]', { hasText: 'Review' }).waitFor({
      timeout: 30_000,
    });
    const t = await board.api<TaskJson>('/tasks/T-1');
    assert.deepEqual(
      t.runs?.map((r) => r.state),
      ['cancelled', 'succeeded'],
    );
  });

  it('shows a task whose retries ran out in Blocked, with the error summary', async () => {
    await page.goto(`${board.url}/`);
    await board.api('/tasks', {
      method: 'POST',
      body: { title: 'Fails every time', agent: 'bot', status: 'todo' },
    });
    const blocked = page.locator(card('blocked', 'T-2'));
    await blocked.waitFor({ timeout: 30_000 });
    assert.match(await text(blocked), /failed \(exit 3\)/);
    await blocked.locator('.card-title').click();
    await page.waitForURL(/\/tasks\/T-2$/);
    const reason = page.locator('[data-testid="status-reason"]');
    await reason.waitFor();
    assert.match(await text(reason), /scripted failure of T-2/);
    assert.equal(await page.locator('[data-testid="run-history"] li').count(), 2);
    await page.locator('[data-testid="error-summary"]').waitFor();
  });

  it('comments, and an @agent mention hands the task back to that agent', async () => {
    await page.getByLabel('Comment').fill('@bot please try once more');
    await page.getByRole('button', { name: 'Comment' }).click();
    await page.locator('.comment .mention', { hasText: '@bot' }).waitFor();
    await page.getByText('Sent to @bot').waitFor();
    await page.locator('[data-testid="run-history"] li').nth(2).waitFor();
  });

  it('moves cards with the keyboard, between columns and within one', async () => {
    await board.api('/tasks', {
      method: 'POST',
      body: { title: 'Keyboard one', status: 'backlog' },
    });
    await board.api('/tasks', {
      method: 'POST',
      body: { title: 'Keyboard two', status: 'backlog' },
    });
    await page.goto(`${board.url}/`);
    await page.locator(card('backlog', 'T-4')).waitFor();
    // Within the column: T-4 above T-3.
    await page.locator(card('backlog', 'T-4')).focus();
    await page.keyboard.press('Space');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('Space');
    await until('T-4 first in Backlog', async () => {
      const r = await board.api<{ items: { id: string }[] }>('/tasks?status=backlog');
      return r.items[0]?.id === 'T-4';
    });
    // Across columns: Backlog → Done, four columns to the right.
    await page.locator(card('backlog', 'T-3')).focus();
    await page.keyboard.press('Space');
    for (let i = 0; i < 4; i++) await page.keyboard.press('ArrowRight');
    await page.keyboard.press('Enter');
    await page.locator(card('done', 'T-3')).waitFor();
    assert.equal((await board.api<TaskJson>('/tasks/T-3')).status, 'done');
    // The moved card keeps the keyboard focus in its new column.
    await until('focus on T-3 in Done', () =>
      page.evaluate(
        () =>
          (document.activeElement as HTMLElement | null)?.closest('[data-column="done"]') !==
            null && (document.activeElement as HTMLElement).dataset.taskId === 'T-3',
      ),
    );
  });

  it('filters the board by search text', async () => {
    await page.getByLabel('Search').fill('Keyboard two');
    await until('only T-4 shown', async () => {
      const ids = await page
        .locator('.card[data-task-id]')
        .evaluateAll((els) => els.map((e) => e.getAttribute('data-task-id')));
      return ids.length === 1 && ids[0] === 'T-4';
    });
    await page.getByLabel('Search').fill('no such card anywhere');
    await page.locator('[data-testid="board-empty"]', { hasText: 'No cards match' }).waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.locator(card('done', 'T-3')).waitFor();
  });

  it('refuses a drop the board does not allow, and says why', async () => {
    await dragTo(page, card('done', 'T-3'), await columnTop(page, 'in_progress'));
    await page.locator('.toast', { hasText: 'In Progress' }).waitFor();
    assert.equal((await board.api<TaskJson>('/tasks/T-3')).status, 'done');
  });

  it('shows hostile task text as text, never as markup', async () => {
    const hostile = await board.api<{ id: string }>('/tasks', {
      method: 'POST',
      body: {
        title: '<img src=x onerror="window.__pwned=1">',
        status: 'backlog',
        body: '<script>window.__pwned=1</script>\n[click](javascript:window.__pwned=1) **ok**',
      },
    });
    await page.goto(`${board.url}/tasks/${hostile.id}`);
    await page.getByText('<script>window.__pwned=1</script>').waitFor();
    await page.locator('h1', { hasText: '<img src=x' }).waitFor();
    assert.equal(await page.locator('main img, main script').count(), 0);
    assert.equal(await page.locator('a[href^="javascript"]').count(), 0);
    assert.equal(await page.locator('.md strong', { hasText: 'ok' }).count(), 1);
    assert.equal(await page.evaluate(() => (window as { __pwned?: number }).__pwned), undefined);
    await page.goto(`${board.url}/`);
    await page.locator(card('backlog', hostile.id)).waitFor();
  });

  it('survives a server restart: the page reconnects without a reload', async () => {
    await page.evaluate(() => {
      (window as unknown as { __sameDocument: boolean }).__sameDocument = true;
    });
    const port = board.port;
    await board.stop();
    await page
      .locator('[data-testid="feed-status"]', { hasNotText: /^\s*live\s*$/ })
      .waitFor({ timeout: 10_000 });
    await board.start({ port });
    await page.locator('[data-testid="feed-status"]', { hasText: 'live' }).waitFor({
      timeout: 20_000,
    });
    const made = await board.api<{ id: string }>('/tasks', {
      method: 'POST',
      body: { title: 'Made after the restart', status: 'backlog' },
    });
    await page.locator(card('backlog', made.id)).waitFor();
    assert.equal(
      await page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument),
      true,
    );
  });

  it('saves screenshots of every page at desktop and phone width, light and dark', async () => {
    for (const [size, viewport] of [
      ['desktop', DESKTOP],
      ['phone', PHONE],
    ] as const) {
      for (const dark of [false, true]) {
        const { context, page: p, errors } = await newPage(browser, { viewport, dark });
        const name = `${size}-${dark ? 'dark' : 'light'}`;
        await board.login(p);
        await p.locator(card('review', 'T-1')).waitFor();
        await p.locator('[data-testid="feed-status"]', { hasText: 'live' }).waitFor();
        // A few live events for the activity panel.
        await board.api('/tasks/T-3/comments', {
          method: 'POST',
          body: { body: `Looks good from ${name}` },
        });
        await board.api('/messages', {
          method: 'POST',
          body: { type: 'PROGRESS', body: `hello from ${name}`, taskId: 'T-3' },
        });
        if (size === 'desktop') {
          await p.getByRole('button', { name: 'Activity' }).click();
          await p.locator('[data-testid="activity"] li').nth(1).waitFor();
        }
        await screenshot(p, `${name}-board`);
        await p.goto(`${board.url}/tasks/T-1`);
        await p.locator('.transcript').getByText('All done.').waitFor();
        await screenshot(p, `${name}-task`);
        await p.goto(`${board.url}/runs`);
        await p.locator('.runs-table tbody tr').first().waitFor();
        await screenshot(p, `${name}-runs`);
        await p.goto(`${board.url}/insights`);
        await p.locator('[data-testid="success-rate"]').waitFor();
        await screenshot(p, `${name}-metrics`);
        await p.goto(`${board.url}/agents`);
        await p.locator('[data-agent="bot"]').waitFor();
        await screenshot(p, `${name}-agents`);
        await p.goto(`${board.url}/activity`);
        await p.locator('[data-testid="feed-status"]', { hasText: 'live' }).waitFor();
        await board.api('/tasks/T-3/comments', { method: 'POST', body: { body: 'one more' } });
        await p.locator('[data-testid="activity"] li').first().waitFor();
        await screenshot(p, `${name}-activity`);
        assert.deepEqual(errors, []);
        await context.close();
      }
    }
    assert.deepEqual(pageErrors, []);
  });
});
