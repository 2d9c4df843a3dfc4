/** `npm start` opens the board in a browser only for a person at a terminal, never in CI. */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { openBrowser } from '../../src/cli/open-browser.js';

it('does not open a browser in CI or without a terminal', () => {
  const tty = process.stdout.isTTY;
  try {
    Object.defineProperty(process.stdout, 'isTTY', { value: true, configurable: true });
    assert.equal(openBrowser('http://127.0.0.1:1/', { CI: 'true', DISPLAY: ':0' }), false);
    assert.equal(openBrowser('http://127.0.0.1:1/', { AGENTBOARD_NO_BROWSER: '1' }), false);
    if (process.platform === 'linux') assert.equal(openBrowser('http://127.0.0.1:1/', {}), false);
    Object.defineProperty(process.stdout, 'isTTY', { value: false, configurable: true });
    assert.equal(openBrowser('http://127.0.0.1:1/', { DISPLAY: ':0' }), false);
  } finally {
    Object.defineProperty(process.stdout, 'isTTY', { value: tty, configurable: true });
  }
});
