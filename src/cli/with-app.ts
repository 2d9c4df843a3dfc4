import { type App, openApp } from '../app/context.js';

/** Opens the board for one command and always closes it, so the process can exit. */
export async function withApp<T>(fn: (app: App) => Promise<T>): Promise<T> {
  const app = await openApp();
  try {
    return await fn(app);
  } finally {
    await app.store.close();
  }
}
