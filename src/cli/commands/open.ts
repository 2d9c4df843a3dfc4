import type { Command } from 'commander';
import { readApiToken } from '../../app/api-token.js';
import { resolvePaths } from '../../config/home.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { AgentboardError, isApiErrorCode } from '../../domain/errors.js';
import { agentApiUrl } from '../../server/security.js';
import { openBrowser } from '../open-browser.js';
import { println } from '../output.js';

/** Where the board listens by config.yaml, as a browser on this machine reaches it. */
function configuredUrl(config: Config): string {
  const { host, port } = config.server;
  return agentApiUrl(`http://${host.includes(':') ? `[${host}]` : host}:${port}`);
}

/**
 * `agentboard open`: asks the running server for a one-time login URL, with
 * the owner's token read from the home, then prints it and opens the browser.
 */
export function registerOpen(program: Command): void {
  program
    .command('open')
    .description('open the web board in the browser, logged in (prints a one-time login link)')
    .option(
      '--url <url>',
      'the running board (default: server.host and server.port of config.yaml)',
    )
    .action(async (f: { url?: string }) => {
      const paths = resolvePaths(process.env, process.cwd());
      const base = (f.url ?? configuredUrl(loadConfig(paths.config))).replace(/\/+$/, '');
      const url = await askLoginLink(base, readApiToken(paths.home));
      println(url);
      openBrowser(url);
    });
}

async function askLoginLink(base: string, token: string | null): Promise<string> {
  let res: Response;
  try {
    res = await fetch(`${base}/api/v1/login-links`, {
      method: 'POST',
      headers: {
        'x-agentboard-request': '1',
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      signal: AbortSignal.timeout(15_000),
    });
  } catch (e) {
    throw new AgentboardError(
      'unavailable',
      `no board answers at ${base} (${(e as Error).message}): start it with \`agentboard serve\`, or pass --url with the address it printed`,
    );
  }
  const body = (await res.json().catch(() => null)) as {
    url?: unknown;
    error?: { code?: string; message?: string };
  } | null;
  if (res.ok && typeof body?.url === 'string') return body.url;
  const code = body?.error?.code;
  throw new AgentboardError(
    isApiErrorCode(code) ? code : 'unavailable',
    `the board at ${base} refused a login link (${res.status}): ${body?.error?.message ?? 'not an agentboard server?'}`,
  );
}
