import path from 'node:path';

/** Where a board keeps its config, SQLite file and run directories. */
export interface BoardPaths {
  home: string;
  config: string;
  database: string;
  runs: string;
}

export function resolvePaths(env: NodeJS.ProcessEnv, cwd: string): BoardPaths {
  const home = path.resolve(cwd, env.AGENTBOARD_HOME || '.agentboard');
  return {
    home,
    config: path.join(home, 'config.yaml'),
    database: path.join(home, 'agentboard.db'),
    runs: path.join(home, 'runs'),
  };
}

export function runDir(paths: BoardPaths, runId: string): string {
  return path.join(paths.runs, runId);
}
