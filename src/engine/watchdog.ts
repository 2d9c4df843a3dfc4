import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../app/context.js';
import { PRIVATE_DIR } from '../config/home.js';

const WATCHDOG = fileURLToPath(new URL('./watchdog-process.js', import.meta.url));

/**
 * The engine's side of its watchdog (see watchdog-process.ts): it
 * hears of every committed lease renewal and of every adopted run.
 */
export interface WorkerWatchdog {
  renewed(): void;
  adopted(runId: string): void;
  /** Ends the watchdog's stdin: as for a crash, it freezes what is left and waits for a successor. */
  close(): void;
}

/**
 * Only where another host can take a run over: on PostgreSQL. A SQLite
 * board's workers all share one machine, so the next one adopts (or records)
 * whatever its predecessor left, however late it starts, and an agent is
 * better left running until then than frozen and killed.
 * AGENTBOARD_WATCHDOG=off turns it off (a single-host PostgreSQL board whose
 * worker may stay down for longer than a lease).
 */
export function watchdogWanted(app: App): boolean {
  return app.store.dialect === 'postgres' && process.env.AGENTBOARD_WATCHDOG !== 'off';
}

/**
 * The kill deadline, after the last renewal: two thirds of a lease. Leases
 * are renewed every third, so one late renewal is tolerated, and the agent
 * is gone a third of a lease before any other host may take the run over.
 */
export function killDeadlineMs(leaseMs: number): number {
  return Math.round((leaseMs * 2) / 3);
}

export function startWatchdog(app: App, workerId: string): WorkerWatchdog {
  const pidFile = watchdogPidFile(app, workerId);
  mkdirSync(path.dirname(pidFile), { recursive: true, mode: PRIVATE_DIR });
  const child = spawn(
    process.execPath,
    [
      WATCHDOG,
      workerId,
      String(killDeadlineMs(app.config.defaults.lease)),
      pidFile,
      path.join(app.paths.home, 'watchdog.log'),
    ],
    // Its own session: a Ctrl-C in the worker's terminal must not reach it.
    // It opens the same board to record ends: the same home and database.
    {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
      env: {
        ...process.env,
        AGENTBOARD_HOME: app.paths.home,
        AGENTBOARD_DATABASE_URL: app.store.connectionUrl() ?? '',
      },
    },
  );
  child.on('error', () => {});
  child.stdin.on('error', () => {});
  child.unref();
  // The worker's event loop must not wait on the watchdog's pipe.
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  const send = (line: string) => {
    if (child.stdin.writable) child.stdin.write(`${line}\n`);
  };
  send('r');
  return {
    renewed: () => send('r'),
    adopted: (runId) => send(`a ${runId}`),
    close: () => child.stdin.end(),
  };
}

/**
 * Retires a dead worker's watchdog before its agents are adopted: it exits
 * on SIGTERM and leaves its frozen agents to us. Waits until it is gone, so
 * it cannot freeze an agent we have just thawed.
 */
export async function retireWatchdogOf(app: App, workerId: string): Promise<void> {
  const file = watchdogPidFile(app, workerId);
  let pid: number;
  try {
    pid = Number(readFileSync(file, 'utf8').trim());
  } catch {
    return;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isWatchdogOf(pid, workerId)) {
    rmSync(file, { force: true });
    return;
  }
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = performance.now() + 5000;
  while (isWatchdogOf(pid, workerId) && performance.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
}

function isWatchdogOf(pid: number, workerId: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return argv.includes(WATCHDOG) && argv.includes(workerId);
  } catch {
    return false;
  }
}

function watchdogPidFile(app: App, workerId: string): string {
  return path.join(app.paths.home, 'watchdogs', `${workerId.replace(/[^\w.-]/g, '_')}.pid`);
}
