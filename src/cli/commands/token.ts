import type { Command } from 'commander';
import { rotateApiToken } from '../../app/api-token.js';
import { resolvePaths } from '../../config/home.js';
import { println } from '../output.js';

/** `agentboard token rotate`: a new API token; the old one stops working at once. */
export function registerToken(program: Command): void {
  const token = program.command('token').description('the API token needed off loopback');
  token
    .command('rotate')
    .description('make a new API token (shown once); the old one stops working at once')
    .action(() => {
      const paths = resolvePaths(process.env, process.cwd());
      println(rotateApiToken(paths.home));
    });
}
