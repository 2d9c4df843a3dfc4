/**
 * The web board's browser tests: a real `agentboard serve` on a fresh home
 * with the scripted agent, and Debian's chromium driven by playwright-core.
 * Not a test file.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { waitFor } from '../engine/harness.js';
import { type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const AGENT = fileURLToPath(new URL('../../../test/web/scripted-agent.mjs', import.meta.url));
export const SCREENSHOTS = fileURLToPath(
  new URL('../../../test-results/screenshots/', import.meta.url),
);

export interface AgentPlan {
  lines?: number;
  delayMs?: number;
  exit?: number;
  /** Files to write in the agent's working directory: name → content. */
  write?: Record<string, string>;
}

/** A git repository on `main` with one commit, ignoring the board inside it. */
function createRepo(dir: string): void {
  fs.mkdirSync(dir);
  const git = (...args: string[]) =>
    execFileSync('git', ['-c', 'user.name=User', '-c', 'user.email=user@example.com', ...args], {
      cwd: dir,
      stdio: 'ignore',
    });
  git('init', '--quiet', '--initial-branch=main');
  fs.writeFileSync(path.join(dir, 'README.md'), '# Project\n\nOld text.\n');
  fs.writeFileSync(path.join(dir, '.gitignore'), '.agentboard/\n');
  git('add', '--all');
  git('commit', '--quiet', '-m', 'initial');
}

/** A board home whose agent `bot` is the scripted agent, following `plan` (editable later). */
export class WebBoard {
  readonly root = tempDir('agentboard-web-');
  readonly repo = path.join(this.root, 'repo');
  readonly home: string;
  readonly planFile = path.join(this.root, 'plan.json');
  server: ServeProcess | null = null;

  /** `worktree`: the board lives in a git repository and each task works in its own worktree. */
  constructor(
    plan: Record<string, AgentPlan>,
    o: { maxAttempts?: number; worktree?: boolean } = {},
  ) {
    this.home = o.worktree ? path.join(this.repo, '.agentboard') : path.join(this.root, 'home');
    if (o.worktree) createRepo(this.repo);
    fs.mkdirSync(this.home);
    this.setPlan(plan);
    // Claude's adapter passes its flags first: a wrapper drops them on the floor.
    const wrapper = path.join(this.root, 'agent.sh');
    const script = [
      '#!/bin/sh',
      'if [ "$1" = --version ]; then echo "2.1.330 (Claude Code, scripted)"; exit 0; fi',
      `exec "${process.execPath}" "${AGENT}"`,
    ];
    fs.writeFileSync(wrapper, `${script.join('\n')}\n`, {
      mode: 0o755,
    });
    const config = {
      agents: {
        bot: {
          kind: 'claude',
          command: wrapper,
          max_concurrency: 4,
          env: { SCRIPTED_AGENT_PLAN: this.planFile, ANTHROPIC_API_KEY: 'sk-scripted' },
        },
      },
      defaults: {
        agent: 'bot',
        max_attempts: o.maxAttempts ?? 2,
        stop_grace: '2s',
        lease: '5s',
        backoff: { base: '300ms', factor: 1, max: '300ms', jitter: 0 },
      },
      board: {
        autostart: true,
        max_concurrency: 4,
        on_success: 'review',
        ...(o.worktree ? { workspace: 'worktree' } : {}),
      },
    };
    fs.writeFileSync(path.join(this.home, 'config.yaml'), JSON.stringify(config, null, 2));
  }

  setPlan(plan: Record<string, AgentPlan>): void {
    fs.writeFileSync(this.planFile, JSON.stringify(plan));
  }

  /** Starts `agentboard serve` (on `port` when restarting, so the page's URL holds). */
  async start(o: { port?: number; args?: string[] } = {}): Promise<ServeProcess> {
    const args = [...(o.port ? ['--port', String(o.port)] : []), ...(o.args ?? [])];
    // startServe kills a server that never got ready: a leftover would keep the test file alive.
    const s = await startServe(this.home, { args, timeoutMs: 60_000 });
    this.server = s;
    return s;
  }

  get url(): string {
    const u = this.server?.url;
    if (!u) throw new Error('the server is not running');
    return u.replace('//0.0.0.0:', '//127.0.0.1:');
  }

  get port(): number {
    return Number(new URL(this.url).port);
  }

  async api<T>(p: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const method = init.method ?? 'GET';
    const res = await fetch(`${this.url}/api/v1${p}`, {
      method,
      // As the board's page does: JSON for a body, the board's header on every write.
      headers: {
        ...this.serving().authHeaders(),
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(method === 'GET' ? {} : { 'x-agentboard-request': '1' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${p}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  private serving(): ServeProcess {
    if (!this.server) throw new Error('the server is not running');
    return this.server;
  }

  /**
   * Logs `page`'s browser context in as a person does: through the one-time
   * URL `serve` printed, or, once that is used, a fresh one asked of the
   * server (what `agentboard open` does). Lands on the board.
   */
  async login(page: Page): Promise<void> {
    const printed = this.serving().loginUrl;
    let url: string;
    if (printed && !this.usedLinks.has(printed)) url = printed;
    else url = (await this.api<{ url: string }>('/login-links', { method: 'POST' })).url;
    this.usedLinks.add(url);
    const res = await page.goto(url);
    if (new URL(page.url()).pathname !== '/') {
      throw new Error(`the login link did not land on the board: ${res?.status()} ${page.url()}`);
    }
  }

  private readonly usedLinks = new Set<string>();

  async stop(): Promise<void> {
    await this.server?.stop().catch(() => this.server?.forceKill());
    this.server = null;
  }
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Root in a container has no user namespaces for the sandbox.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
}

export const DESKTOP = { width: 1280, height: 800 };
export const PHONE = { width: 390, height: 844 };

export async function newPage(
  browser: Browser,
  o: { viewport?: { width: number; height: number }; dark?: boolean } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({
    viewport: o.viewport ?? DESKTOP,
    colorScheme: o.dark ? 'dark' : 'light',
    deviceScaleFactor: 1,
  });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/** Drags with the mouse from the centre of `from` to the point `to`, in small steps. */
export async function dragTo(
  page: Page,
  from: string,
  to: { x: number; y: number },
): Promise<void> {
  await page.locator(from).scrollIntoViewIfNeeded();
  const box = await page.locator(from).boundingBox();
  if (!box) throw new Error(`nothing to drag at ${from}`);
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  const steps = 12;
  for (let i = 1; i <= steps; i++) {
    await page.mouse.move(
      box.x + box.width / 2 + ((to.x - box.x - box.width / 2) * i) / steps,
      box.y + box.height / 2 + ((to.y - box.y - box.height / 2) * i) / steps,
    );
  }
  await page.mouse.up();
}

/** The point near the top of a column's card list, where a dropped card goes first. */
export async function columnTop(page: Page, status: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(`[data-column="${status}"] .column-list`).boundingBox();
  if (!box) throw new Error(`no column ${status}`);
  return { x: box.x + box.width / 2, y: box.y + 10 };
}

/** Polls a page or the API until `f` answers (not undefined or false), for up to `ms`. */
export function until<T>(
  what: string,
  f: () => Promise<T | undefined | false>,
  ms = 60_000,
): Promise<T> {
  return waitFor(what, f, ms, 150);
}
