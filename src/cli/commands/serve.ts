import type { Command } from 'commander';
import { openApp } from '../../app/context.js';
import { type EngineOptions, startEngine } from '../../engine/engine.js';
import { println } from '../output.js';

/**
 * `agentboard serve`: the engine in the foreground. SIGTERM or SIGINT stop it
 * gracefully: it stops claiming and leaves running agents alone; the next
 * start re-adopts them (their output keeps streaming, their exit is recorded).
 */
export function registerServe(program: Command): void {
  program
    .command('serve')
    .description(
      'run the engine: dispatch, supervise and recover runs (Ctrl-C leaves agents running)',
    )
    .option('--no-worker', 'claim and run nothing here (the API only; workers run elsewhere)')
    .action((f: { worker: boolean }) => runEngineInForeground({ claim: f.worker }));
}

/** Runs the engine until SIGTERM or SIGINT, printing what it recovered at startup. */
export async function runEngineInForeground(opts: EngineOptions = {}): Promise<void> {
  const app = await openApp();
  const engine = await startEngine(app, opts);
  const r = engine.recovered;
  const where = app.store.dialect === 'sqlite' ? app.paths.database : 'PostgreSQL';
  const recovered =
    r.adopted + r.recorded + r.lost > 0
      ? `\nrecovered: ${r.adopted} re-adopted, ${r.recorded} exits recorded, ${r.lost} lost`
      : '';
  // One write: whoever waits for the first line also gets the recovery summary.
  println(`agentboard engine ${engine.worker.id} on ${where}${recovered}`);
  await new Promise<void>((resolve) => {
    const shutdown = (sig: string) => {
      println(
        `${sig}: stopping; ${engine.liveRuns()} agent(s) keep running and are re-adopted at the next start`,
      );
      resolve();
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  await engine.stop();
  await app.store.close();
}
