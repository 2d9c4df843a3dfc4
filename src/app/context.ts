import path from 'node:path';
import { type BoardPaths, ensureHome, resolvePaths } from '../config/home.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { createRunIdFactory } from '../domain/ids.js';
import { type Clock, Store, systemClock } from '../store/store.js';

/** Everything a use case needs, passed in so tests can drive the clock and randomness. */
export interface App {
  store: Store;
  config: Config;
  paths: BoardPaths;
  clock: Clock;
  random: () => number;
  newRunId: () => string;
  /** Where agents run when no workspace is configured: the project around the board's home. */
  workdir: string;
}

export interface OpenAppOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  clock?: Clock;
  random?: () => number;
  config?: Config;
}

export async function openApp(opts: OpenAppOptions = {}): Promise<App> {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const paths = resolvePaths(env, cwd);
  const config = opts.config ?? loadConfig(paths.config);
  const clock = opts.clock ?? systemClock;
  // 0700, before anything is written into it (see ensureHome).
  ensureHome(paths);
  const store = await Store.open({
    sqliteFile: paths.database,
    databaseUrl: env.AGENTBOARD_DATABASE_URL || undefined,
    clock,
  });
  const random = opts.random ?? Math.random;
  return {
    store,
    config,
    paths,
    clock,
    random,
    newRunId: createRunIdFactory(() => clock.now(), random),
    workdir: path.resolve(path.dirname(paths.home), config.board.workdir ?? '.'),
  };
}
