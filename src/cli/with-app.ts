import { type App, openApp } from '../app/context.js';
import { boardRedactor } from '../app/secrets.js';
import { redactOutputWith } from './output.js';

/**
 * Opens the board for one command and always closes it, so the process can
 * exit. From then on, everything the command prints passes the board's
 * redactor.
 */
export async function withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
  const app = await openApp();
  redactOutputWith(boardRedactor(app));
  try {
    return await fn(app);
  } finally {
    await app.store.close();
  }
}
