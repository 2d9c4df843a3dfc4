import type { Command } from 'commander';
import { ensureApiToken, rotateApiToken } from '../../app/api-token.js';
import { resolvePaths } from '../../config/home.js';
import { println } from '../output.js';

/**
 * `agentboard token show|rotate`: the owner's API token, kept in the home
 * (mode 0600). Every API request needs it unless `server.auth: none`.
 */
export function registerToken(program: Command): void {
  const token = program
    .command('token')
    .description('the API token every request needs (kept in the home, readable by you alone)');
  token
    .command('show')
    .description('print the API token (made now if the board has none yet)')
    .action(() => {
      const paths = resolvePaths(process.env, process.cwd());
      println(ensureApiToken(paths.home).token);
    });
  token
    .command('rotate')
    .description('make a new API token and print it; the old one stops working at once')
    .action(() => {
      const paths = resolvePaths(process.env, process.cwd());
      println(rotateApiToken(paths.home));
    });
}
