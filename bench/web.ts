/**
 * The web board with 10,000 tasks, in Debian's chromium (playwright-core):
 * - first render: navigation start → every column drawn with its cards;
 * - a drag: mouse drop → the card in its new column in the DOM, and → the
 *   move persisted (the API answered);
 * - scrolling a column of ~5,000 cards: frame times during a scripted scroll;
 * - a run that printed 100,000 lines: its transcript and raw log open, then
 *   scroll (both lists are virtualized).
 * Columns are virtualized and paged, so none of these grow with the board.
 */
import fs from 'node:fs';
import path from 'node:path';
import { openApp } from '../src/app/context.js';
import { ServeProcess } from '../test/support/server.js';
import { benchAgents, seedBoard } from './board-fixture.js';
import {
  type BenchContext,
  type BenchModule,
  latencyRows,
  percentile,
  type Row,
  summarize,
} from './harness.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const LOG_LINES = 100_000;

/** Scrolls the element at `selector` down by `step` px per frame; returns the frame times. */
function scrollFrames({ selector, step }: { selector: string; step: number }): Promise<number[]> {
  return new Promise((resolve) => {
    const list = document.querySelector(selector) as HTMLElement;
    const times: number[] = [];
    let last = performance.now();
    const end = list.scrollHeight - list.clientHeight;
    const frame = (now: number) => {
      times.push(now - last);
      last = now;
      list.scrollTop = Math.min(end, list.scrollTop + step);
      if (list.scrollTop >= end || times.length > 600) resolve(times.slice(1));
      else requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
}

function frameRows(base: Pick<Row, 'benchmark' | 'store'>, what: string, frames: number[]): Row[] {
  const sorted = [...frames].sort((a, b) => a - b);
  const slow = frames.filter((f) => f > 34).length;
  return [
    {
      ...base,
      metric: `${what}: frame time p95`,
      value: percentile(sorted, 95),
      unit: 'ms',
      n: frames.length,
      target: { max: 50 },
      note: `${slow} of ${frames.length} frames over 34 ms`,
    },
    {
      ...base,
      metric: `${what}: frames over 34 ms`,
      value: (100 * slow) / Math.max(1, frames.length),
      unit: '%',
      n: frames.length,
    },
  ];
}

/** Records, in the page, when every column first shows real cards. */
const FIRST_RENDER_PROBE = `
  (() => {
    const done = () => {
      const cols = document.querySelectorAll('[data-column]');
      if (cols.length < 6) return false;
      for (const c of cols) {
        if (c.dataset.column !== 'cancelled' && !c.querySelector('.card[data-task-id]')) return false;
      }
      return true;
    };
    const obs = new MutationObserver(() => {
      if (window.__firstRender === undefined && done()) {
        window.__firstRender = performance.now();
        obs.disconnect();
      }
    });
    document.addEventListener('DOMContentLoaded', () =>
      obs.observe(document.body, { childList: true, subtree: true }),
    );
  })();
`;

const web: BenchModule = {
  name: 'web',
  description: 'web board with 10k tasks: first render, a drag, column scroll frames (chromium)',
  async run(ctx: BenchContext): Promise<Row[]> {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(
        `no chromium at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`,
      );
    }
    const webIndex = new URL('../web/index.html', import.meta.url);
    if (!fs.existsSync(webIndex)) throw new Error('dist/web is missing: run `npm run build`');
    const count = ctx.quick ? 2_000 : 10_000;
    // The agent prints as many lines as the run's page then waits for (fewer with --quick).
    const logLines = ctx.quick ? 10_000 : LOG_LINES;
    const home = ctx.tmpDir('web');
    fs.writeFileSync(
      path.join(home, 'config.yaml'),
      JSON.stringify({
        agents: {
          ...benchAgents(),
          // Prints the lines and exits: a long transcript to open and scroll.
          printer: { kind: 'command', command: 'seq', args: ['1', String(logLines)] },
        },
        board: { autostart: false },
      }),
    );
    const app = await openApp({ cwd: home, env: { AGENTBOARD_HOME: home } });
    ctx.log(`web: seeding ${count} tasks`);
    await seedBoard(app, { count, batch: 1000 });
    await app.store.close();

    const server = new ServeProcess(home);
    ctx.onCleanup(() => server.forceKill());
    await server.waitReady(60_000);
    const url = server.url ?? '';
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--no-sandbox', '--disable-dev-shm-usage'],
    });
    ctx.onCleanup(() => browser.close());
    // Each cold context logs in as the board's own page does: the token in its cookie.
    const loggedIn = async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await context.addCookies([{ name: 'agentboard_token', value: server.token(), url }]);
      return context;
    };
    const base = { benchmark: 'web', store: 'sqlite' as const };
    const rows: Row[] = [];

    // First render, cold page each time (the browser's HTTP cache is per context).
    const firsts: number[] = [];
    const loads = ctx.quick ? 3 : 7;
    for (let i = 0; i < loads; i++) {
      const context = await loggedIn();
      const page = await context.newPage();
      await page.addInitScript(FIRST_RENDER_PROBE);
      await page.goto(`${url}/`);
      await page.waitForFunction(() => (window as { __firstRender?: number }).__firstRender, null, {
        timeout: 30_000,
      });
      firsts.push(
        await page.evaluate(() => (window as { __firstRender?: number }).__firstRender ?? 0),
      );
      await context.close();
    }
    rows.push(
      ...latencyRows(base, `first render (${count} tasks)`, summarize(firsts), {
        p50: { max: 1500 },
      }),
    );

    const context = await loggedIn();
    const page = await context.newPage();
    await page.goto(`${url}/`);
    await page.locator('[data-column="done"] .card[data-task-id]').first().waitFor();

    // Drags: the top Backlog card to the top of Todo, and back.
    const inDom: number[] = [];
    const persisted: number[] = [];
    const drags = ctx.quick ? 4 : 10;
    for (let i = 0; i < drags; i++) {
      const [from, to] = i % 2 === 0 ? ['backlog', 'todo'] : ['todo', 'backlog'];
      const src = page.locator(`[data-column="${from}"] .card[data-task-id]`).first();
      await src.waitFor();
      const id = (await src.getAttribute('data-task-id')) ?? '';
      const box = await src.boundingBox();
      const dest = await page.locator(`[data-column="${to}"] .column-list`).boundingBox();
      if (!box || !dest) throw new Error('board not laid out');
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      await page.mouse.down();
      for (let s = 1; s <= 8; s++) {
        await page.mouse.move(
          box.x + box.width / 2 + ((dest.x + dest.width / 2 - box.x - box.width / 2) * s) / 8,
          box.y + box.height / 2 + ((dest.y + 8 - box.y - box.height / 2) * s) / 8,
        );
      }
      const moved = page.evaluate(
        ({ to, id }) =>
          new Promise<number>((resolve) => {
            const sel = `[data-column="${to}"] .card[data-task-id="${id}"]`;
            const check = () => {
              if (document.querySelector(sel)) {
                resolve(performance.now());
                return true;
              }
              return false;
            };
            if (check()) return;
            const obs = new MutationObserver(() => {
              if (check()) obs.disconnect();
            });
            obs.observe(document.body, { childList: true, subtree: true, attributes: true });
          }),
        { to, id },
      );
      const saved = page.waitForResponse((r) => r.url().includes(`/tasks/${id}/move`));
      const t0 = Date.now();
      const pageT0 = await page.evaluate(() => performance.now());
      await page.mouse.up();
      const [movedAt, response] = await Promise.all([moved, saved]);
      persisted.push(Date.now() - t0);
      inDom.push(Math.max(0, movedAt - pageT0));
      if (!response.ok()) throw new Error(`move ${id} refused: ${await response.text()}`);
    }
    rows.push(...latencyRows(base, 'drag: drop → moved in DOM', summarize(inDom)));
    rows.push(...latencyRows(base, 'drag: drop → persisted', summarize(persisted)));

    // Scroll the Done column at a steady pace, timing every frame.
    const columnFrames = await page.evaluate(scrollFrames, {
      selector: '[data-column="done"] .column-list',
      step: 400,
    });
    rows.push(...frameRows(base, 'scroll a 4,800-card column', columnFrames));

    // A run that printed 100,000 lines: open its transcript and raw log, and scroll them.
    const lines = logLines;
    const task = await server
      .fetch('/api/v1/tasks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ title: 'print many lines', status: 'backlog' }),
      })
      .then((r) => r.json() as Promise<{ id: string }>);
    const run = await server
      .fetch(`/api/v1/tasks/${task.id}/runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ agent: 'printer' }),
      })
      .then((r) => r.json() as Promise<{ id: string }>);
    ctx.log(`web: waiting for run ${run.id} to print ${lines} lines and be parsed`);
    for (const deadline = Date.now() + 120_000; ; ) {
      const r = (await server.fetch(`/api/v1/runs/${run.id}`).then((x) => x.json())) as {
        state: string;
      };
      if (!['queued', 'claimed', 'running'].includes(r.state)) break;
      if (Date.now() > deadline) throw new Error(`run ${run.id} did not finish: ${r.state}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    const t0 = Date.now();
    await page.goto(`${url}/tasks/${task.id}?run=${run.id}`);
    // The command agent's lines arrive as coalesced messages; the last holds the last line.
    await page.waitForFunction(
      (last) => document.querySelector('.transcript')?.textContent?.includes(`\n${last}`),
      String(lines),
      { timeout: 120_000 },
    );
    const transcriptOpen = Date.now() - t0;
    await page.evaluate(() => {
      const el = document.querySelector('.transcript') as HTMLElement;
      el.scrollTop = 0;
    });
    const transcriptFrames = await page.evaluate(scrollFrames, {
      selector: '.transcript',
      step: 2000,
    });
    await page.getByRole('tab', { name: 'Raw stdout' }).click();
    const t1 = Date.now();
    await page
      .locator('.raw-status', { hasText: `${lines.toLocaleString('en-US')} lines` })
      .waitFor({ timeout: 120_000 });
    const rawOpen = Date.now() - t1;
    await page.evaluate(() => {
      const el = document.querySelector('.raw-lines') as HTMLElement;
      el.scrollTop = 0;
    });
    const rawFrames = await page.evaluate(scrollFrames, { selector: '.raw-lines', step: 2000 });
    rows.push(
      {
        ...base,
        metric: `transcript of ${lines} lines: open → last line shown`,
        value: transcriptOpen,
        unit: 'ms',
        n: 1,
      },
      ...frameRows(base, `scroll a ${lines}-line transcript`, transcriptFrames),
      {
        ...base,
        metric: `raw log of ${lines} lines: open → all streamed`,
        value: rawOpen,
        unit: 'ms',
        n: 1,
      },
      ...frameRows(base, `scroll a ${lines}-line raw log`, rawFrames),
    );
    await context.close();
    return rows;
  },
};

export default web;
