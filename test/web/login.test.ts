/**
 * The board asks for its API token, on loopback too. A browser gets in
 * through the one-time URL `serve` prints (it works once), or by pasting the
 * token into the login form; either way the server keeps the token in an
 * HttpOnly cookie, which the page's requests and EventSource send.
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, newPage, WebBoard } from './browser.js';

let board: WebBoard;
let browser: Browser;

before(async () => {
  board = new WebBoard({ default: { lines: 1, delayMs: 10 } });
  await board.start();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await board?.stop();
});

it('the printed one-time URL logs in once; a second browser using it gets nothing', {
  timeout: 60_000,
}, async () => {
  const link = board.server?.loginUrl;
  assert.ok(link, `serve printed a login URL\n${board.server?.stdout}`);
  assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/login\?code=[\w-]{20,}$/);

  const first = await newPage(browser);
  await first.page.goto(link);
  assert.equal(new URL(first.page.url()).pathname, '/', 'redirected to the board');
  await first.page.locator('[data-testid="board-empty"]').waitFor();
  await first.page.locator('[data-testid="feed-status"]', { hasText: 'live' }).waitFor();
  const cookie = (await first.context.cookies()).find((c) => c.name === 'agentboard_token');
  assert.equal(cookie?.value, board.server?.token());
  assert.equal(cookie?.httpOnly, true, 'no script can read it');
  assert.equal(cookie?.sameSite, 'Strict');
  assert.equal(await first.page.evaluate(() => document.cookie), '', 'invisible to the page');
  assert.deepEqual(first.errors, []);
  await first.context.close();

  const second = await newPage(browser);
  const again = await second.page.goto(link);
  assert.equal(again?.status(), 401);
  const body = JSON.parse((await again?.text()) ?? '{}');
  assert.equal(body.error.code, 'unauthorized');
  assert.match(body.error.message, /agentboard open/);
  assert.deepEqual(await second.context.cookies(), [], 'a used link sets nothing');
  await second.page.goto(`${board.url}/`);
  await second.page.getByLabel('API token').waitFor();
  await second.context.close();
});

it('asks for the token, keeps it in the HttpOnly cookie, then shows the live board', {
  timeout: 60_000,
}, async () => {
  const token = board.server?.token() ?? '';
  const { page, context, errors } = await newPage(browser);
  await page.goto(`${board.url}/`);
  const input = page.getByLabel('API token');
  await input.waitFor();
  assert.match((await page.locator('.login').textContent()) ?? '', /agentboard open/);
  await input.fill('wrong-token');
  await page.getByRole('button', { name: 'Open the board' }).click();
  await page.locator('.form-error').waitFor();
  assert.deepEqual(await context.cookies(), []);
  await input.fill(token);
  await page.getByRole('button', { name: 'Open the board' }).click();
  await page.locator('[data-testid="board-empty"]').waitFor();
  await page.locator('[data-testid="feed-status"]', { hasText: 'live' }).waitFor();
  const cookie = (await context.cookies()).find((c) => c.name === 'agentboard_token');
  assert.equal(cookie?.value, token);
  assert.equal(cookie?.httpOnly, true);
  // State-changing requests from the page pass the token and Origin checks.
  await page.getByRole('button', { name: 'New task' }).click();
  await page.locator('input[name="title"]').fill('Made after logging in');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('.card', { hasText: 'Made after logging in' }).waitFor();
  assert.deepEqual(errors, []);
  await context.close();
});
