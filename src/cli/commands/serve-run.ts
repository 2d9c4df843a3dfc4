/**
 * What `serve` and `worker` run, apart from their registration: the HTTP
 * server, metrics and engine are loaded only by the commands that need them,
 * so every other command starts fast.
 */
import { checkAgent } from '../../agents/validate.js';
import { apiTokenFile } from '../../app/api-token.js';
import { type App, openApp } from '../../app/context.js';
import { boardRedactor } from '../../app/secrets.js';
import { engineIsRunning } from '../../app/workers.js';
import { UsageError } from '../../domain/errors.js';
import { stderrLogger } from '../../engine/context.js';
import { type Engine, type EngineOptions, startEngine } from '../../engine/engine.js';
import { listenHttp } from '../../server/listen.js';
import { createMetrics } from '../../server/metrics.js';
import { agentApiUrl } from '../../server/security.js';
import { println, redactOutputWith } from '../output.js';
import type { ServeFlags } from './serve.js';

/** Runs the API and the engine until SIGTERM or SIGINT, printing what it recovered at startup. */
export async function serveInForeground(
  f: ServeFlags = {},
  /** Given the one-time login URL (the board's URL under `server.auth: none`). */
  onReady?: (loginUrl: string) => void,
): Promise<void> {
  if (f.port !== undefined && f.port > 65535) {
    throw new UsageError(`--port must be 0..65535, got ${f.port}`, { field: 'port' });
  }
  const app = await openApp();
  redactOutputWith(boardRedactor(app));
  const engineRef: { current: Engine | null } = { current: null };
  const metrics = createMetrics({ app, engine: engineRef, processMetrics: true });
  let http: Awaited<ReturnType<typeof listenHttp>>;
  try {
    http = await listenHttp(app, { host: f.host, port: f.port, engine: engineRef, metrics });
  } catch (e) {
    await app.store.close();
    throw e;
  }
  const engine = await startQuietEngine(app, {
    observer: metrics.observer,
    claim: f.worker,
    apiUrl: agentApiUrl(http.url),
  });
  engineRef.current = engine;
  if (http.replacedHashToken) {
    stderrLogger.warn(
      `the API token is now kept in ${apiTokenFile(app.paths.home)} (readable by you alone), so your own commands use it with nothing to type; the token this board had before no longer works: \`agentboard token show\` prints the new one`,
    );
  }
  const login = http.loginUrl();
  const auth =
    http.auth === 'token'
      ? `\nlog in (this link works once, for 10 minutes): ${login}\n(\`agentboard open\` makes a new link; \`agentboard token show\` prints the API token)`
      : '\nno API token needed (server.auth: none)';
  await runUntilSignal(app, engine, `\nboard: ${http.url}/${auth}`, () => {
    onReady?.(login);
    if (f.worker !== false) warnAboutAgents(app);
    else void warnNoWorker(app);
  });
  await http.server.close();
  await engine.stop();
  await app.store.close();
  exitSoon();
}

/** `agentboard worker`: the engine alone, claiming runs from the shared database. */
export async function runEngineInForeground(opts: EngineOptions = {}): Promise<void> {
  const app = await openApp();
  redactOutputWith(boardRedactor(app));
  const engine = await startQuietEngine(app, opts);
  await runUntilSignal(app, engine, '', () => warnAboutAgents(app));
  await engine.stop();
  await app.store.close();
  exitSoon();
}

/**
 * Everything is stopped and closed: the process ends now, even if a handle
 * (an exit watcher of an agent left running, a late timer) would keep the
 * event loop alive — a stopped server must not linger. A moment is left for
 * stdout to drain.
 */
function exitSoon(): void {
  setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
}

/** An engine whose log lines pass the redactor: an error summary can quote an agent's stderr. */
function startQuietEngine(app: App, opts: EngineOptions): Promise<Engine> {
  const redact = boardRedactor(app);
  return startEngine(app, {
    ...opts,
    log: {
      info: (m) => stderrLogger.info(redact.text(m)),
      warn: (m) => stderrLogger.warn(redact.text(m)),
    },
  });
}

/**
 * `serve --no-worker` on SQLite: the board's only workers are on this host, so
 * unless one is already up, nothing will run. On PostgreSQL workers may be on
 * other hosts: say nothing.
 */
async function warnNoWorker(app: App): Promise<void> {
  if (app.store.dialect.multiHost) return;
  try {
    if (await engineIsRunning(app)) return;
  } catch {
    // Unknown: warn, since the warning is only advice.
  }
  stderrLogger.warn(
    'no worker: nothing will run on this board until one starts (`agentboard worker`, or `agentboard serve` without --no-worker)',
  );
}

/**
 * One warning line per configured agent that will not run as tested: a CLI
 * version outside its tested range, missing credentials, a missing binary.
 * In the background, after the ready line: the start waits for no CLI.
 */
function warnAboutAgents(app: App): void {
  const redact = boardRedactor(app);
  for (const [name, agent] of Object.entries(app.config.agents)) {
    checkAgent(name, agent, { env: process.env, home: app.paths.home, cwd: app.workdir })
      .then((s) => {
        const said = [...s.problems, ...s.warnings.filter((w) => /tested range/.test(w))];
        if (said.length > 0) stderrLogger.warn(redact.text(`agent ${name}: ${said.join('; ')}`));
      })
      .catch((e: unknown) => {
        stderrLogger.warn(
          redact.text(`agent ${name}: could not be checked: ${(e as Error).message}`),
        );
      });
  }
}

/** Prints the ready line (with what was recovered), then waits for SIGTERM or SIGINT. */
async function runUntilSignal(
  app: App,
  engine: Engine,
  extra: string,
  onReady?: () => void,
): Promise<void> {
  const r = engine.recovered;
  const where = app.store.dialect.multiHost ? 'PostgreSQL' : app.paths.database;
  const recovered =
    r.adopted + r.recorded + r.lost + r.released > 0
      ? `\nrecovered: ${r.adopted} re-adopted, ${r.recorded} exits recorded, ${r.lost} lost, ${r.released} never started (queued again)`
      : '';
  // One write: whoever waits for the first line also gets the rest.
  println(`agentboard engine ${engine.worker.id} on ${where}${extra}${recovered}`);
  onReady?.();
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
}
