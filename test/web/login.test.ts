/**
 * Off loopback the board asks for its API token: the page shows a login form,
 * keeps the token in the `agentboard_token` cookie, and then loads and follows
 * the live feed (EventSource sends the cookie).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium, newPage, WebBoard } from './browser.js';

let board: WebBoard;
let browser: Browser;

before(async () => {
  board = new WebBoard({ default: { lines: 1, delayMs: 10 } });
  await board.start({ args: ['--host', '0.0.0.0'] });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await board?.stop();
});

it('asks for the token, keeps it in a cookie, then shows the live board', {
  timeout: 60_000,
}, async () => {
  const token = /API token \(shown once.*\): (\S+)$/m.exec(board.server?.stdout ?? '')?.[1];
  assert.ok(token, 'serve printed the new token');
  const { page, context, errors } = await newPage(browser);
  await page.goto(`${board.url}/`);
  const input = page.getByLabel('API token');
  await input.waitFor();
  await input.fill('wrong-token');
  await page.getByRole('button', { name: 'Open the board' }).click();
  await page.locator('.form-error').waitFor();
  await input.fill(token);
  await page.getByRole('button', { name: 'Open the board' }).click();
  await page.locator('[data-testid="board-empty"]').waitFor();
  await page.locator('[data-testid="feed-status"]', { hasText: 'live' }).waitFor();
  const cookies = await context.cookies();
  assert.equal(cookies.find((c) => c.name === 'agentboard_token')?.value, token);
  // State-changing requests from the page pass the token and Origin checks.
  await page.getByRole('button', { name: 'New task' }).click();
  await page.locator('input[name="title"]').fill('Made off loopback');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.locator('.card', { hasText: 'Made off loopback' }).waitFor();
  assert.deepEqual(errors, []);
});
