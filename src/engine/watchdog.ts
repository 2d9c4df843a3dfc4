import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../app/context.js';
import { PRIVATE_DIR, PRIVATE_FILE } from '../config/home.js';
import type { EngineLogger } from './context.js';

const WATCHDOG = fileURLToPath(new URL('./watchdog-process.js', import.meta.url));

/** A watchdog that died on its own is started again, at most this often. */
const RESTART_MS = 5000;

/**
 * The engine's side of its watchdog (see watchdog-process.ts): it hears of
 * every committed lease renewal and of every adopted run.
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
  return app.store.dialect.multiHost && process.env.AGENTBOARD_WATCHDOG !== 'off';
}

/**
 * The kill deadline, after the last renewal: two thirds of a lease. Leases
 * are renewed every third, so one late renewal is tolerated, and the agent
 * is gone a third of a lease before any other host may take the run over.
 */
export function killDeadlineMs(leaseMs: number): number {
  return Math.round((leaseMs * 2) / 3);
}

/**
 * Starts the worker's watchdog, and starts it again should it die (logged:
 * meanwhile the worker's agents are not protected). Never throws: a worker
 * whose watchdog cannot start (a full disk) runs on, and says so.
 */
export function startWatchdog(app: App, workerId: string, log: EngineLogger): WorkerWatchdog {
  const pidFile = watchdogPidFile(app, workerId);
  const adopted = new Set<string>();
  let child: ChildProcess | null = null;
  let closed = false;
  let lastStart = 0;
  const send = (line: string) => {
    if (child?.stdin?.writable) child.stdin.write(`${line}\n`);
  };
  const launch = () => {
    lastStart = performance.now();
    try {
      mkdirSync(path.dirname(pidFile), { recursive: true, mode: PRIVATE_DIR });
      const c = spawn(
        process.execPath,
        [
          WATCHDOG,
          workerId,
          String(killDeadlineMs(app.config.defaults.lease)),
          pidFile,
          path.join(app.paths.home, 'watchdog.log'),
        ],
        // Its own session: a Ctrl-C in the worker's terminal must not reach
        // it. It opens the same board to record ends: same home and database.
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
      // Written here, before anything can be adopted: a successor must find it
      // even if this process dies while the watchdog is still loading.
      if (c.pid !== undefined) writeFileSync(pidFile, `${c.pid}\n`, { mode: PRIVATE_FILE });
      c.on('error', () => {});
      c.stdin?.on('error', () => {});
      c.once('exit', (code, signal) => {
        if (closed) return;
        log.warn(
          `the watchdog of worker ${workerId} exited (${signal ?? `code ${code}`}): its agents are not protected until it is back`,
        );
        const wait = Math.max(0, lastStart + RESTART_MS - performance.now());
        setTimeout(() => {
          if (closed) return;
          launch();
          send('r');
          for (const id of adopted) send(`a ${id}`);
        }, wait).unref();
      });
      c.unref();
      // The worker's event loop must not wait on the watchdog's pipe.
      (c.stdin as unknown as { unref?: () => void } | null)?.unref?.();
      child = c;
    } catch (e) {
      log.warn(`could not start the watchdog of worker ${workerId}: ${(e as Error).message}`);
      child = null;
    }
  };
  launch();
  send('r');
  return {
    renewed: () => send('r'),
    adopted: (runId) => {
      adopted.add(runId);
      send(`a ${runId}`);
    },
    close: () => {
      closed = true;
      child?.stdin?.end();
    },
  };
}

/**
 * Retires a dead worker's watchdog before its agents are adopted: it exits
 * on SIGTERM (once a recording pass it is in has ended) and leaves its frozen
 * agents to us. Waits until it is gone, so it cannot freeze or kill an agent
 * we are about to thaw; one that does not go is killed.
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
  const gone = async (ms: number) => {
    const deadline = performance.now() + ms;
    while (isWatchdogOf(pid, workerId) && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    return !isWatchdogOf(pid, workerId);
  };
  try {
    process.kill(pid, 'SIGTERM');
    if (!(await gone(10_000))) process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
  await gone(2000);
  rmSync(file, { force: true });
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
