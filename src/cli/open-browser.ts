import { spawn } from 'node:child_process';

/**
 * Opens `url` in the desktop's browser, best effort: only for a person at a
 * terminal (stdout a TTY, not CI), with xdg-open (or `open` on macOS). Any
 * failure is ignored: the URL is printed anyway.
 */
export function openBrowser(url: string, env: NodeJS.ProcessEnv = process.env): boolean {
  if (!process.stdout.isTTY || env.CI || env.AGENTBOARD_NO_BROWSER) return false;
  const command = process.platform === 'darwin' ? 'open' : 'xdg-open';
  if (process.platform !== 'darwin' && !env.DISPLAY && !env.WAYLAND_DISPLAY) return false;
  try {
    const child = spawn(command, [url], { stdio: 'ignore', detached: true });
    child.on('error', () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}
