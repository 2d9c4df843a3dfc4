import { liveWorkers } from '../store/workers.js';
import type { App } from './context.js';

/** Whether some engine (`agentboard serve` or `worker`) is alive and will pick up queued runs. */
export async function engineIsRunning(app: App): Promise<boolean> {
  const since = app.clock.now() - app.config.defaults.lease;
  return (await liveWorkers(app.store.db, since)).length > 0;
}
